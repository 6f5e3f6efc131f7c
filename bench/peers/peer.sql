-- The peer's price resolution for bench/peers.sh: docs/pricing.md's walk as one SQL
-- function over pricegraph's own tables, which PostGraphile v5 exposes as the computed
-- column Product.resolvedPrice(customerId, currency, quantity).
--
-- What it follows (docs/pricing.md): effective groups (the direct organization's groups
-- when one of them is active, else the customer's own, plus Everyone); inactive groups
-- absent everywhere; product access by product lines (NOT_ORDERABLE); base tiers; list
-- tiers (min <= q <= max, the largest min wins); candidates that are ACTIVE and within
-- their window, once each at their smallest priority, ordered by (priority, created_at,
-- id); a SALE only below the base price, an OVERRIDE always; derived lists (a `percent_off`
-- rule prices from the base price, rounded half to even, where the list has no matching
-- row of its own); then BASE, then NONE.
--
-- What it leaves out (the comparison never asks for them): `at` (it prices at now()),
-- the LOWEST_PRICE strategy, the explanation, and checking its inputs (an unknown
-- customer is priced as an anonymous shopper instead of NOT_FOUND; any currency code is
-- accepted). TYPE groups play no part in prices (docs/pricing.md#effective-groups: only
-- PRICING groups; memberships and organization groups are PRICING groups by the API's
-- rules), so, like pricegraph, it reads memberships without looking at the group's kind.
drop function if exists product_resolved_price(product, uuid, text, int);
drop type if exists resolved_price;
create type resolved_price as (
  amount            text,  -- decimal string with the currency's digits ("10.00"); null for NONE, NOT_ORDERABLE
  currency_code     text,
  source            text,  -- PRICE_LIST | BASE | NONE | NOT_ORDERABLE
  price_list_id     uuid,  -- the rest: only for PRICE_LIST (tier_min_quantity for BASE too)
  price_list_name   text,
  customer_group_id uuid,
  priority          int,
  tier_min_quantity int,
  percent_off       text   -- the rule, when the amount came from it: "20", "12.5"
);

-- Arguments are used by position: `currency` and `quantity` are also column names.
create or replace function product_resolved_price(p product, customer_id uuid, currency text, quantity int default 1)
returns resolved_price language sql stable parallel safe as $$
with
org as (      -- the direct organization's groups
  select g.id, g.is_active
  from customer c
  join organization_group og on og.organization_id = c.organization_id
  join customer_group g on g.id = og.group_id
  where c.id = $2),
own as (      -- the customer's own groups
  select g.id, g.is_active
  from customer_group_membership m
  cross join lateral (select id, is_active from customer_group where id = m.group_id limit 1) g
  where m.customer_id = $2),
active as (   -- effective groups that are active: only those price and restrict
  select id from org where is_active and exists (select 1 from org where is_active)
  union
  select id from own where is_active and not exists (select 1 from org where is_active)
  union
  select id from customer_group where id = '00000000-0000-7000-8000-000000000002' and is_active),
lines as (    -- product lines listed by those groups; none listed: no restriction
  select gl.product_line_id from customer_group_product_line gl where gl.group_id in (select id from active)),
base as (     -- the base tier: the largest min_quantity <= quantity
  select b.amount_minor, b.min_quantity from base_price b
  where b.product_id = p.id and b.currency = upper($3) and b.min_quantity <= $4
  order by b.min_quantity desc limit 1),
tier as (     -- each list's own tier for the quantity: min <= q <= max (open max), the largest min
  select distinct on (pr.price_list_id) pr.price_list_id, pr.amount_minor, pr.min_quantity
  from price pr
  where pr.product_id = p.id and pr.currency = upper($3) and pr.min_quantity <= $4
    and (pr.max_quantity is null or $4 <= pr.max_quantity)
  order by pr.price_list_id, pr.min_quantity desc),
-- A list's price: its own tier, else (a derived list, when there is a base price) the base
-- price less percent_off (in hundredths of a percent), rounded half to even.
derived as (
  select dl.price_list_id,
         d.q + case when 2 * d.r > 10000 then 1 when 2 * d.r = 10000 then mod(d.q, 2) else 0 end as amount_minor,
         (select min_quantity from base) as min_quantity
  from (select distinct l.price_list_id, pl.percent_off
        from active a
        cross join lateral (select price_list_id from customer_group_price_list where group_id = a.id offset 0) l
        cross join lateral (select percent_off from price_list where id = l.price_list_id limit 1) pl
        where pl.percent_off is not null) dl
  cross join lateral (
    select div(b.amount_minor::numeric * (10000 - dl.percent_off), 10000) as q,
           mod(b.amount_minor::numeric * (10000 - dl.percent_off), 10000) as r
    from base b) d
  where not exists (select 1 from tier t where t.price_list_id = dl.price_list_id)),
priced as (
  select price_list_id, amount_minor, min_quantity, false as by_rule from tier
  union all
  select price_list_id, amount_minor, min_quantity, true from derived),
-- The walk: the candidates (lists linked to an active effective group, ACTIVE, starts_at
-- <= now < ends_at, each once through its link with the smallest priority, then group id)
-- in (priority, created_at, id) order; the first whose price applies wins. Taking the first
-- applicable among the lists that have a price is the same walk, driven from the product's
-- few price rows (and the few derived lists) rather than from every list of the shopper.
hit as (
  select x.price_list_id, pl.name, c.group_id, c.priority, x.amount_minor, x.min_quantity,
         case when x.by_rule then pl.percent_off end as percent_off
  from priced x
  cross join lateral (select * from price_list where id = x.price_list_id limit 1) pl
  join lateral (
    select l.group_id, l.priority from customer_group_price_list l
    where l.price_list_id = x.price_list_id and l.group_id in (select id from active)
    order by l.priority, l.group_id limit 1) c on true
  where pl.status = 'ACTIVE'
    and (pl.starts_at is null or pl.starts_at <= now())
    and (pl.ends_at is null or now() < pl.ends_at)
    and (pl.type = 'OVERRIDE'
         or not exists (select 1 from base)
         or x.amount_minor < (select amount_minor from base))
  order by c.priority, pl.created_at, pl.id
  limit 1),
answer as (
  select case
           when exists (select 1 from lines)
                and p.product_line_id is not null
                and p.product_line_id not in (select product_line_id from lines) then 'NOT_ORDERABLE'
           when exists (select 1 from hit) then 'PRICE_LIST'
           when exists (select 1 from base) then 'BASE'
           else 'NONE'
         end as source),
digits as (
  select case when upper($3) in ('BIF', 'CLP', 'DJF', 'GNF', 'ISK', 'JPY', 'KMF', 'KRW', 'PYG', 'RWF', 'UGX',
                                 'UYI', 'VND', 'VUV', 'XAF', 'XOF', 'XPF') then 0
              when upper($3) in ('BHD', 'IQD', 'JOD', 'KWD', 'LYD', 'OMR', 'TND') then 3
              when upper($3) in ('CLF', 'UYW') then 4
              else 2 end as n)
select
  case a.source
    when 'PRICE_LIST' then round(h.amount_minor::numeric / power(10::numeric, d.n), d.n)::text
    when 'BASE' then round((select amount_minor from base)::numeric / power(10::numeric, d.n), d.n)::text
  end,
  upper($3),
  a.source,
  h.price_list_id,
  h.name,
  h.group_id,
  h.priority,
  case a.source when 'PRICE_LIST' then h.min_quantity when 'BASE' then (select min_quantity from base) end,
  case when h.percent_off is null then null
       else trim(trailing '.' from trim(trailing '0' from (h.percent_off::numeric / 100)::numeric(10, 2)::text)) end
from answer a
cross join digits d
left join hit h on a.source = 'PRICE_LIST'
$$;
