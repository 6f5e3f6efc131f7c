-- Edge cases of docs/pricing.md for bench/peers.sh's second check, added to a small database of
-- their own (the demo data set plus these rows; the benchmark's database is never touched):
-- derived lists (12.5 % off, rounding half to even: 0.035 -> 0.04, 0.105 -> 0.10, 0.175 -> 0.18;
-- a 50 % derived SALE; a derived list's own row winning), a SALE equal to the base price, an
-- OVERRIDE above it, tier gaps and overlaps, base tiers, a list shared by two groups at two
-- priorities, a draft, a list not started, an ended one, a list reached only through an inactive
-- group, two lists tied on priority and creation time (the smaller id wins), an organization whose
-- only group is inactive (its customers keep their own groups), an organization whose active group
-- replaces its customers' own, product-line restrictions (and an inactive group's lines that do not
-- restrict), and a product without a base price. Names start with "Edge"; SKUs with "EDGE-".
create function pg_temp.u(t text) returns uuid language sql immutable as $$ select md5('edge:' || t)::uuid $$;

insert into product_line (id, name, version, created_at, updated_at)
values (pg_temp.u('L1'), 'Edge L1', 1, now(), now()), (pg_temp.u('L2'), 'Edge L2', 1, now(), now());

insert into product (id, metadata, version, sku, name, product_line_id, created_at, updated_at)
select pg_temp.u(s), '{}', 1, 'EDGE-' || s, 'Edge ' || s, l, now(), now()
from (values ('E1', null::uuid), ('E2', null), ('E3', null), ('E4', pg_temp.u('L1')), ('E5', pg_temp.u('L1')),
             ('E6', pg_temp.u('L2'))) v(s, l);

-- E5 has no base price; E4 has a base tier from 10.
insert into base_price (id, product_id, currency, min_quantity, amount_minor, created_at, updated_at)
select gen_random_uuid(), pg_temp.u(p), 'USD', q, a, now(), now()
from (values ('E1', 1, 4), ('E2', 1, 12), ('E3', 1, 20), ('E4', 1, 10000), ('E4', 10, 9000), ('E6', 1, 1000)) v(p, q, a);

insert into customer_group (id, metadata, version, name, name_key, kind, is_active, commission_exempt, free_freight,
                            created_at, updated_at)
select pg_temp.u(g), '{}', 1, 'Edge ' || g, 'edge ' || lower(g), 'PRICING', active, false, false, now(), now()
from (values ('GA', true), ('GB', true), ('GI', false), ('GL', true)) v(g, active);

-- GL may order line L1 only (and products without a line); GI's line L2 restricts nobody: GI is inactive.
insert into customer_group_product_line (group_id, product_line_id, created_at)
values (pg_temp.u('GL'), pg_temp.u('L1'), now()), (pg_temp.u('GI'), pg_temp.u('L2'), now());

insert into price_list (id, metadata, version, name, type, status, starts_at, ends_at, percent_off, created_at, updated_at)
select pg_temp.u(n), '{}', 1, 'Edge ' || n, t, s, starts, ends, off, created, now()
from (values
  ('D125',  'OVERRIDE', 'ACTIVE', null::timestamptz, null::timestamptz, 1250, now() - interval '1 day'),
  ('SEQ',   'SALE',     'ACTIVE', null, null, null::int, now() - interval '1 day'),
  ('GAP',   'OVERRIDE', 'ACTIVE', null, null, null, now() - interval '1 day'),
  ('SH',    'OVERRIDE', 'ACTIVE', null, null, null, now() - interval '1 day'),
  ('DR',    'OVERRIDE', 'DRAFT',  null, null, null, now() - interval '1 day'),
  ('FUT',   'OVERRIDE', 'ACTIVE', now() + interval '1 day', null, null, now() - interval '1 day'),
  ('ENDED', 'OVERRIDE', 'ACTIVE', now() - interval '2 days', now() - interval '1 hour', null, now() - interval '1 day'),
  ('IN',    'OVERRIDE', 'ACTIVE', null, null, null, now() - interval '1 day'),
  ('TA',    'OVERRIDE', 'ACTIVE', null, null, null, '2026-01-01T00:00:00Z'),
  ('TB',    'OVERRIDE', 'ACTIVE', null, null, null, '2026-01-01T00:00:00Z'),
  ('OV',    'OVERRIDE', 'ACTIVE', null, null, null, now() - interval '1 day'),
  ('D50S',  'SALE',     'ACTIVE', null, null, 5000, now() - interval '1 day')) v(n, t, s, starts, ends, off, created);

insert into customer_group_price_list (group_id, price_list_id, priority, created_at)
select pg_temp.u(g), pg_temp.u(l), p, now()
from (values ('GA', 'D125', 5), ('GA', 'SEQ', 1), ('GB', 'GAP', 3), ('GA', 'SH', 20), ('GB', 'SH', 2), ('GA', 'DR', 0),
             ('GA', 'FUT', 0), ('GA', 'ENDED', 0), ('GI', 'IN', 0), ('GA', 'TA', 4), ('GB', 'TB', 4), ('GB', 'OV', 8),
             ('GL', 'D50S', 7), ('GL', 'GAP', 9)) v(g, l, p);

insert into price (id, price_list_id, product_id, currency, min_quantity, max_quantity, amount_minor, created_at, updated_at)
select gen_random_uuid(), pg_temp.u(l), pg_temp.u(p), 'USD', lo, hi, a, now(), now()
from (values ('SEQ', 'E4', 1, null::int, 10000), ('GAP', 'E4', 1, 9, 9500), ('GAP', 'E4', 20, 99, 9000),
             ('GAP', 'E4', 50, null, 8000), ('SH', 'E4', 1, null, 8500), ('DR', 'E4', 1, null, 100),
             ('FUT', 'E4', 1, null, 100), ('ENDED', 'E4', 1, null, 100), ('IN', 'E4', 1, null, 50),
             ('TA', 'E6', 1, null, 700), ('TB', 'E6', 1, null, 600), ('OV', 'E1', 1, null, 10),
             ('D125', 'E3', 10, null, 1), ('D50S', 'E5', 1, null, 300)) v(l, p, lo, hi, a);

insert into organization (id, metadata, version, name, created_at, updated_at)
values (pg_temp.u('OI'), '{}', 1, 'Edge OI', now(), now()), (pg_temp.u('OA'), '{}', 1, 'Edge OA', now(), now());
insert into organization_group (organization_id, group_id, created_at)
values (pg_temp.u('OI'), pg_temp.u('GI'), now()), (pg_temp.u('OA'), pg_temp.u('GA'), now());

insert into customer (id, metadata, version, email, name, organization_id, type_group_id, commission_exempt, free_freight,
                      created_at, updated_at)
select pg_temp.u(c), '{}', 1, 'edge-' || c || '@example.com', 'Edge ' || c, o, '00000000-0000-7000-8000-000000000001',
       false, false, now(), now()
from (values ('c1', null::uuid), ('c2', null), ('c3', null), ('c4', null), ('c5', pg_temp.u('OI')), ('c6', pg_temp.u('OA')),
             ('c7', null), ('c8', null)) v(c, o);
insert into customer_group_membership (customer_id, group_id, created_at)
select pg_temp.u(c), pg_temp.u(g), now()
from (values ('c1', 'GA'), ('c2', 'GB'), ('c3', 'GA'), ('c3', 'GB'), ('c4', 'GI'), ('c5', 'GB'), ('c6', 'GB'), ('c7', 'GL'),
             ('c8', 'GL'), ('c8', 'GI')) v(c, g);
