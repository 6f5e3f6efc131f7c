//! GraphiQL on `GET /graphql`: the page, and the files it loads from
//! `/graphiql/<file>` — compiled into the binary by default, or read at
//! start-up from a directory (`--graphiql-assets`), never from a CDN, so the
//! IDE works offline.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::http::header;
use axum::routing::get;

use super::AppState;

/// GraphiQL 3 on React 18, every file from this server (never a CDN), so the
/// IDE works offline. The default query runs against the `--demo` data.
pub(crate) const PAGE: &str = r#"<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>pricegraph</title>
  <link rel="stylesheet" href="/graphiql/graphiql.min.css">
  <style>body { margin: 0; } #graphiql { height: 100vh; }</style>
</head>
<body>
  <div id="graphiql">Loading GraphiQL…</div>
  <noscript>GraphiQL needs JavaScript; queries can still be POSTed to /graphql.</noscript>
  <script src="/graphiql/react.production.min.js"></script>
  <script src="/graphiql/react-dom.production.min.js"></script>
  <script src="/graphiql/graphiql.min.js"></script>
  <script>
    const defaultQuery = `# Ctrl-Enter runs the query;
# the book icon (top left) opens the docs.
{
  customerGroups(first: 10) {
    totalCount
    edges {
      node {
        name
        kind
        isActive
        priceLists {
          priority
          priceList { name type status }
        }
      }
    }
  }
}
`;
    // Subscriptions run over Server-Sent Events (graphql-sse, distinct
    // connections mode) on the same endpoint; everything else over POST.
    const http = GraphiQL.createFetcher({ url: '/graphql' });
    const isSubscription = (params, opts) => {
      const ast = opts && opts.documentAST;
      if (ast) {
        return ast.definitions.some((d) => d.kind === 'OperationDefinition'
          && d.operation === 'subscription'
          && (!params.operationName || (d.name && d.name.value === params.operationName)));
      }
      return /^\s*subscription\b/.test(params.query);
    };
    async function* events(params, opts) {
      const response = await fetch('/graphql', {
        method: 'POST',
        headers: Object.assign({}, opts && opts.headers,
          { 'Content-Type': 'application/json', 'Accept': 'text/event-stream' }),
        body: JSON.stringify(params),
      });
      if (!response.body || !(response.headers.get('content-type') || '').startsWith('text/event-stream')) {
        yield await response.json();
        return;
      }
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = 'message';
          let data = '';
          for (const line of block.split('\n')) {
            if (line.startsWith('event:')) event = line.slice(6).trim();
            else if (line.startsWith('data:')) data += line.slice(5).trim();
          }
          if (event === 'complete') return;
          if (event === 'next') yield JSON.parse(data);
        }
      }
    }
    const fetcher = (params, opts) => isSubscription(params, opts) ? events(params, opts) : http(params, opts);
    ReactDOM.createRoot(document.getElementById('graphiql')).render(
      React.createElement(GraphiQL, {
        fetcher,
        defaultQuery,
      }),
    );
  </script>
</body>
</html>
"#;

const JAVASCRIPT: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// A file the page loads: its name under `/graphiql/`, where npm puts it,
/// and the copy compiled in (vendored from npm; `assets/graphiql/README.md`
/// says from where and how to refresh them).
struct AssetSpec {
    name: &'static str,
    npm_path: &'static str,
    /// What to install when the file is missing: the versions that still
    /// publish it.
    install: &'static str,
    content_type: &'static str,
    embedded: &'static [u8],
}

const GRAPHIQL_INSTALL: &str = "graphiql@3.8.3 (GraphiQL 5 publishes no UMD bundle)";
const REACT_INSTALL: &str = "react@18.3.1 and react-dom@18.3.1 (React 19 publishes no UMD build)";

static ASSETS: [AssetSpec; 4] = [
    AssetSpec {
        name: "graphiql.min.css",
        npm_path: "graphiql/graphiql.min.css",
        install: GRAPHIQL_INSTALL,
        content_type: CSS,
        embedded: include_bytes!("../../assets/graphiql/graphiql.min.css"),
    },
    AssetSpec {
        name: "graphiql.min.js",
        npm_path: "graphiql/graphiql.min.js",
        install: GRAPHIQL_INSTALL,
        content_type: JAVASCRIPT,
        embedded: include_bytes!("../../assets/graphiql/graphiql.min.js"),
    },
    AssetSpec {
        name: "react.production.min.js",
        npm_path: "react/umd/react.production.min.js",
        install: REACT_INSTALL,
        content_type: JAVASCRIPT,
        embedded: include_bytes!("../../assets/graphiql/react.production.min.js"),
    },
    AssetSpec {
        name: "react-dom.production.min.js",
        npm_path: "react-dom/umd/react-dom.production.min.js",
        install: REACT_INSTALL,
        content_type: JAVASCRIPT,
        embedded: include_bytes!("../../assets/graphiql/react-dom.production.min.js"),
    },
];

/// Why a directory cannot serve GraphiQL; the server does not start.
#[derive(Debug, thiserror::Error)]
pub enum GraphiqlAssetsError {
    #[error("the GraphiQL assets directory {} does not exist or is not a directory", .dir.display())]
    NotADirectory { dir: PathBuf },
    #[error(
        "the GraphiQL assets directory {} has no {name}: looked for {tried}; install {install}, \
         or copy the files of assets/graphiql/ there",
        .dir.display()
    )]
    Missing {
        dir: PathBuf,
        name: &'static str,
        tried: String,
        install: &'static str,
    },
    #[error("the GraphiQL asset {} is empty", .path.display())]
    Empty { path: PathBuf },
    #[error("cannot read the GraphiQL asset {}: {source}", .path.display())]
    Unreadable { path: PathBuf, source: std::io::Error },
}

struct AssetFile {
    name: &'static str,
    content_type: &'static str,
    body: Bytes,
}

/// The files the page loads, all present: a directory is checked whole at
/// start-up, so a broken install fails then, not in a browser later.
#[derive(Clone)]
pub struct GraphiqlAssets {
    files: Arc<[AssetFile]>,
    /// Where they came from, for the log.
    origin: Option<PathBuf>,
}

impl Default for GraphiqlAssets {
    fn default() -> Self {
        Self::embedded()
    }
}

impl std::fmt::Debug for GraphiqlAssets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphiqlAssets")
            .field("origin", &self.origin)
            .field("files", &self.files.iter().map(|file| file.name).collect::<Vec<_>>())
            .finish()
    }
}

impl GraphiqlAssets {
    /// The copies compiled into the binary.
    pub fn embedded() -> Self {
        let files = ASSETS
            .iter()
            .map(|spec| AssetFile {
                name: spec.name,
                content_type: spec.content_type,
                body: Bytes::from_static(spec.embedded),
            })
            .collect();
        Self { files, origin: None }
    }

    /// Reads every file from `dir`, laid out either like `assets/graphiql/`
    /// (the four files side by side) or as npm installs them: `dir` is a
    /// `node_modules` directory, or the directory that holds one (after
    /// `npm install graphiql@3 react@18 react-dom@18`). Each file is looked
    /// for in that order; the first one found is served.
    pub fn from_dir(dir: &Path) -> Result<Self, GraphiqlAssetsError> {
        if !dir.is_dir() {
            return Err(GraphiqlAssetsError::NotADirectory { dir: dir.to_owned() });
        }
        let files = ASSETS
            .iter()
            .map(|spec| read_asset(dir, spec))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            files,
            origin: Some(dir.to_owned()),
        })
    }

    /// The directory the files were read from; `None` for the embedded ones.
    pub fn origin(&self) -> Option<&Path> {
        self.origin.as_deref()
    }

    /// Embedded files change only with the binary, so browsers may keep
    /// them a day (their paths carry no version, hence not `immutable`);
    /// files from a directory can change at any restart, so browsers ask.
    fn cache_control(&self) -> &'static str {
        match self.origin {
            None => "public, max-age=86400",
            Some(_) => "no-cache",
        }
    }
}

fn candidates(dir: &Path, spec: &AssetSpec) -> [PathBuf; 3] {
    [
        dir.join(spec.name),
        dir.join(spec.npm_path),
        dir.join("node_modules").join(spec.npm_path),
    ]
}

fn read_asset(dir: &Path, spec: &AssetSpec) -> Result<AssetFile, GraphiqlAssetsError> {
    let candidates = candidates(dir, spec);
    let Some(path) = candidates.iter().find(|path| path.is_file()) else {
        let tried = candidates
            .iter()
            .map(|path| path.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        return Err(GraphiqlAssetsError::Missing {
            dir: dir.to_owned(),
            name: spec.name,
            tried,
            install: spec.install,
        });
    };
    let body = std::fs::read(path).map_err(|source| GraphiqlAssetsError::Unreadable {
        path: path.clone(),
        source,
    })?;
    if body.is_empty() {
        return Err(GraphiqlAssetsError::Empty { path: path.clone() });
    }
    tracing::debug!(path = %path.display(), bytes = body.len(), "GraphiQL asset read");
    Ok(AssetFile {
        name: spec.name,
        content_type: spec.content_type,
        body: Bytes::from(body),
    })
}

/// `/graphiql/<file>` for each file the page loads; any other name is 404.
pub(crate) fn routes(assets: &GraphiqlAssets) -> Router<AppState> {
    let cache_control = assets.cache_control();
    assets.files.iter().fold(Router::new(), |router, file| {
        let content_type = file.content_type;
        let body = file.body.clone();
        router.route(
            &format!("/graphiql/{}", file.name),
            get(move || async move {
                (
                    [
                        (header::CONTENT_TYPE, content_type),
                        (header::CACHE_CONTROL, cache_control),
                    ],
                    body,
                )
            }),
        )
    })
}
