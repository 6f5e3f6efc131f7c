// PostGraphile v5 as bench/peers.sh runs it: the amber preset with GraphiQL (Ruru), explain
// and watch mode off; started with GRAPHILE_ENV=production and NODE_ENV=production.
// (An earlier run found the preset's defaults as fast as this.)
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";

export default {
  extends: [PostGraphileAmberPreset],
  grafserv: { graphiql: false, graphiqlOnGraphQLGET: false, watch: false },
  grafast: { explain: false },
};
