// PostGraphile v5 as bench/peers.sh runs it: the amber preset with GraphiQL (Ruru), explain
// and watch mode off; started with GRAPHILE_ENV=production and NODE_ENV=production.
// (An earlier run found the preset's defaults as fast as this.) pricegraph's table
// price_list_edge (list window edges, for change events) is left out: its type would be named
// PriceListEdge, the name of price_list's connection edge (a "recoverable error" at start).
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { jsonPgSmartTags } from "postgraphile/utils";

export default {
  extends: [PostGraphileAmberPreset],
  plugins: [jsonPgSmartTags({ version: 1, config: { class: { price_list_edge: { tags: { behavior: "-*" } } } } })],
  grafserv: { graphiql: false, graphiqlOnGraphQLGET: false, watch: false },
  grafast: { explain: false },
};
