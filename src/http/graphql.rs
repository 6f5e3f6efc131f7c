//! The GraphQL endpoint: GET for GraphiQL and queries, POST for everything,
//! batches included. What a request must pass before it runs is checked here,
//! in an order that keeps an unauthenticated or hostile request cheap: no
//! document is parsed and no body read before the caller is known, and the
//! shape is checked before any parser sees it; only then does the schema
//! run, with loaders of its own per operation.
//!
//! The handler, not the schema, decides GET-versus-mutation and the batch
//! limit, because both are about HTTP (a link must not write; one POST must
//! not carry unbounded work). Execution is spawned under the request's
//! deadline: a query is stopped at it; a mutation's writes keep to it
//! themselves, and its answer says what happened (see [`HttpOptions`]).
//!
//! [`HttpOptions`]: super::HttpOptions

use std::time::{Duration, Instant};

use async_graphql::BatchRequest;
use async_graphql::parser::types::{DocumentOperations, OperationType};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use tracing::Instrument;

use super::{AppState, DATABASE_RETRY_AFTER, graphiql, graphql_error, idempotency, internal_error, request_id};
use wire::{
    MediaType, code_request_errors, explain_bad_request, json_error, media_type, never_ran, not_acceptable, parse_get,
    revalidated,
};

pub mod persisted;
mod socket;
mod sse;
pub mod streams;
mod wire;
use crate::auth::{AuthError, Principal};
use crate::db::Statements;
use crate::graphql::batching::{LoadQueue, run_with_loads};
use crate::graphql::loaders::Loaders;
use crate::graphql::shape::{self, Refusal};
use crate::metrics::Outcome;

/// A body over the limit, answered in GraphQL's shape; the middleware
/// answers with it too when the declared length is already too much.
pub(super) fn payload_too_large(limit: usize) -> Response {
    graphql_error(
        StatusCode::PAYLOAD_TOO_LARGE,
        "PAYLOAD_TOO_LARGE",
        format!("the request body is over the limit of {limit} bytes"),
    )
}

fn unauthenticated(error: AuthError) -> Response {
    let mut response = graphql_error(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", error.to_string());
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

/// Past the credential's request rate (see [`super::rate`]).
fn rate_limited(wait: std::time::Duration) -> Response {
    let mut response = graphql_error(
        StatusCode::TOO_MANY_REQUESTS,
        "RATE_LIMITED",
        "too many requests with this credential; retry after the time in `Retry-After`",
    );
    if let Ok(seconds) = HeaderValue::from_str(&super::rate::retry_after(wait)) {
        response.headers_mut().insert(header::RETRY_AFTER, seconds);
    }
    response
}

/// A document too deep or too large to parse safely: refused before any
/// parser sees it (see [`crate::graphql::shape`]).
fn refused(refusal: Refusal) -> Response {
    graphql_error(StatusCode::BAD_REQUEST, refusal.code(), refusal.to_string())
}

/// GET: GraphiQL, or a query from the query string (never a mutation: a
/// link or an `<img>` must not be able to write).
pub(super) async fn get(State(state): State<AppState>, request: Request) -> Response {
    if socket::is_upgrade(&request) {
        return socket::upgrade(state, request).await;
    }
    if sse::wants_events(request.headers()) {
        return sse::serve(state, request).await;
    }
    let Some(query_string) = request.uri().query().filter(|q| !q.is_empty()) else {
        if state.options.schema.production {
            return graphql_error(
                StatusCode::NOT_FOUND,
                "NOT_FOUND",
                "GraphiQL is off in the production profile",
            );
        }
        return Html(graphiql::PAGE).into_response();
    };
    if media_type(request.headers()).is_none() {
        return not_acceptable();
    }
    // Who asks comes first: nothing of an unauthenticated request is parsed.
    let principal = match state.authenticate(request.headers()) {
        Ok(principal) => principal,
        Err(error) => return unauthenticated(error),
    };
    if let Err(wait) = state.rate.check(principal, request.headers()) {
        return rate_limited(wait);
    }
    let mut graphql_request = match parse_get(query_string) {
        Ok(parsed) => parsed,
        Err(message) => return graphql_error(StatusCode::BAD_REQUEST, "BAD_REQUEST", message),
    };
    let registration = match state.persisted.apply(&mut graphql_request).await {
        Ok(registration) => registration,
        Err(refusal) => return refusal.into_response(),
    };
    if graphql_request.query.is_empty() {
        return without_query(None);
    }
    if let Err(error) = shape::check(&graphql_request) {
        return refused(error);
    }
    if is_mutation(&mut graphql_request) {
        let mut response = graphql_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            "mutations must be sent by POST with Content-Type: application/json",
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    state
        .persisted
        .register_parsed([(&mut graphql_request, registration)])
        .await;
    let headers = request.headers().clone();
    let answer = execute(&state, &headers, principal, BatchRequest::Single(graphql_request), None).await;
    revalidated(&headers, answer).await
}

/// What a request would run, as far as the HTTP layer cares.
#[derive(Debug, Default)]
struct Operation {
    /// Whether it is (or, with several and none chosen, may be) a mutation.
    mutation: bool,
    /// The operation's name, when the document gives it one.
    name: Option<String>,
    /// Whether the document parsed.
    parsed: bool,
}

/// Parses the request's document (once: the request keeps it for its
/// execution) to see what it would run.
fn operation(request: &mut async_graphql::Request) -> Operation {
    let wanted = request.operation_name.clone();
    let Ok(document) = crate::graphql::parsed::parse(request) else {
        return Operation::default();
    };
    let is = |ty: OperationType| ty == OperationType::Mutation;
    match (&document.operations, wanted.as_deref()) {
        // Single: the document's one anonymous operation.
        (DocumentOperations::Single(operation), _) => Operation {
            mutation: is(operation.node.ty),
            name: None,
            parsed: true,
        },
        (DocumentOperations::Multiple(operations), Some(name)) => match operations.get(name) {
            Some(operation) => Operation {
                mutation: is(operation.node.ty),
                name: Some(name.to_owned()),
                parsed: true,
            },
            None => Operation {
                parsed: true,
                ..Operation::default()
            },
        },
        (DocumentOperations::Multiple(operations), None) => Operation {
            mutation: operations.values().any(|op| is(op.node.ty)),
            name: match operations.len() {
                1 => operations.keys().next().map(ToString::to_string),
                _ => None,
            },
            parsed: true,
        },
    }
}

/// A request with no document to run: no `query` (or an empty one) and no
/// persisted query standing for it. Said so, rather than answered as an
/// empty document that fails to parse; `index` is the operation's in a batch.
fn without_query(index: Option<usize>) -> Response {
    let at = index.map(|index| format!("operation {index}: ")).unwrap_or_default();
    graphql_error(
        StatusCode::BAD_REQUEST,
        "BAD_REQUEST",
        format!("{at}the request has no `query` (nor an `extensions.persistedQuery` hash standing for one)"),
    )
}

/// Whether the operation a request would run is a mutation.
fn is_mutation(request: &mut async_graphql::Request) -> bool {
    operation(request).mutation
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"))
}

/// POST: `application/json` only — a form, `text/plain` or multipart is
/// what a cross-site page can send without asking (CSRF).
pub(super) async fn post(State(state): State<AppState>, request: Request) -> Response {
    if sse::wants_events(request.headers()) && is_json(request.headers()) {
        return sse::serve(state, request).await;
    }
    if !is_json(request.headers()) {
        return graphql_error(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "send GraphQL requests with Content-Type: application/json",
        );
    }
    if media_type(request.headers()).is_none() {
        return not_acceptable();
    }
    let principal = match state.authenticate(request.headers()) {
        Ok(principal) => principal,
        Err(error) => return unauthenticated(error),
    };
    if let Err(wait) = state.rate.check(principal, request.headers()) {
        return rate_limited(wait);
    }
    let (parts, body) = request.into_parts();
    let bytes = match super::read_body(body, &state.options).await {
        Ok(bytes) => bytes,
        Err(super::BodyError::TooLarge) => return payload_too_large(state.options.body_limit),
        Err(super::BodyError::TooSlow) => {
            return graphql_error(
                StatusCode::REQUEST_TIMEOUT,
                "BODY_TIMEOUT",
                format!(
                    "the request body did not arrive within {:?}",
                    state.options.body_timeout
                ),
            );
        }
    };
    let mut batch: BatchRequest = match serde_json::from_slice(&bytes) {
        Ok(batch) => batch,
        Err(error) => {
            return graphql_error(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                format!(
                    "the body is not a GraphQL request (or a batch of them): {}",
                    explain_bad_request(&bytes).unwrap_or_else(|| json_error(&error))
                ),
            );
        }
    };
    if let BatchRequest::Batch(requests) = &batch
        && requests.len() > state.options.max_batch
    {
        return graphql_error(
            StatusCode::BAD_REQUEST,
            "BATCH_TOO_LARGE",
            format!(
                "a batch may hold at most {} operations; this one holds {} (none was run)",
                state.options.max_batch,
                requests.len()
            ),
        );
    }
    let mut registrations = Vec::new();
    let requests: Vec<&mut async_graphql::Request> = batch.iter_mut().collect();
    for request in requests {
        match state.persisted.apply(request).await {
            Ok(registration) => registrations.push(registration),
            Err(refusal) => return refusal.into_response(),
        }
    }
    if let Some(index) = batch.iter().position(|request| request.query.is_empty()) {
        return without_query(matches!(batch, BatchRequest::Batch(_)).then_some(index));
    }
    if let Some(error) = batch.iter().find_map(|request| shape::check(request).err()) {
        return refused(error);
    }
    let mutates = batch.iter_mut().any(is_mutation);
    let requests: Vec<_> = batch.iter_mut().zip(registrations).collect();
    state.persisted.register_parsed(requests).await;
    let claim = match mutates {
        true => match idempotency::claim(&state, &parts.headers, &bytes).await {
            Ok(claim) => claim,
            Err(answer) => return answer,
        },
        false => None,
    };
    execute(&state, &parts.headers, principal, batch, claim).await
}

/// How long past its deadline a mutation's answer waits for its outcome:
/// its writes stop at the deadline, so only a commit under way (or a
/// database that stopped answering mid-commit) takes any of it.
const MUTATION_OUTCOME_WAIT: Duration = Duration::from_secs(30);

/// Runs an authenticated request (or a batch) whose shape was checked, each operation with
/// loaders of its own, within the request timeout. A read the database
/// failed (a pooled connection that died with a database restart) runs
/// once more while there is time; a mutation never does (it may have
/// written), and the client retries it, with an `Idempotency-Key` to be safe.
/// The request's `claim`, if any, gets the answer when the work ends, even
/// after the client was answered `TIMEOUT`.
async fn execute(
    state: &AppState,
    headers: &HeaderMap,
    principal: Principal,
    mut batch: BatchRequest,
    claim: Option<idempotency::Claim>,
) -> Response {
    let request_id = request_id(headers);
    let started = Instant::now();
    let operations: Vec<Operation> = batch.iter_mut().map(operation).collect();
    let mutates = operations.iter().any(|op| op.mutation);
    let record = |outcomes: &mut dyn Iterator<Item = Outcome>| {
        for (op, outcome) in operations.iter().zip(outcomes) {
            state.metrics.operation(op.name.as_deref(), outcome, started.elapsed());
        }
    };
    let timeout = state.options.request_timeout;
    let parsed: Vec<bool> = operations.iter().map(|op| op.parsed).collect();
    let run = {
        let (state, request_id) = (state.clone(), request_id.clone());
        let again = (!mutates).then(|| copy(&batch));
        async move {
            let mut response = run_batch(&state, principal, batch).await;
            if let Some(again) = again
                && responses(&response).any(|one| one.errors.iter().any(is_unavailable))
                && started.elapsed() < timeout / 2
            {
                tracing::info!(request_id, "the database failed a read; running it once more");
                response = run_batch(&state, principal, again).await;
            }
            mark_internal_errors(&mut response, &request_id);
            code_request_errors(&mut response, &parsed);
            if let Some(claim) = claim {
                match wire::body(&response) {
                    Ok(body) => claim.finish(status(&response), body).await,
                    Err(error) => tracing::error!(%error, request_id, "a GraphQL answer did not serialize"),
                }
            }
            response
        }
    };
    // Spawned, so that a query can be stopped at its deadline, and a
    // mutation is never cut short between its commit and its answer. A
    // mutation's writes keep to the deadline themselves (rolled back past
    // it, see `store::Writing`): its answer waits for its outcome.
    let deadline = tokio::time::Instant::now() + timeout;
    let mut task = tokio::spawn(
        Statements::carry(crate::store::with_deadline(deadline, run)).instrument(tracing::Span::current()),
    );
    let wait = if mutates {
        timeout + MUTATION_OUTCOME_WAIT
    } else {
        timeout
    };
    let response = match tokio::time::timeout(wait, &mut task).await {
        Ok(Ok(response)) => response,
        Ok(Err(error)) => {
            tracing::error!(%error, request_id, "a GraphQL request failed");
            record(&mut std::iter::repeat(Outcome::internal));
            return internal_error(&request_id);
        }
        Err(_) if mutates => {
            record(&mut std::iter::repeat(Outcome::timeout));
            tracing::error!(
                request_id,
                "a mutation's outcome was not known {wait:?} after it started"
            );
            return graphql_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "OUTCOME_UNKNOWN",
                format!(
                    "the mutation's outcome was not known after {wait:?}; read before retrying, or retry with the same Idempotency-Key"
                ),
            );
        }
        Err(_) => {
            record(&mut std::iter::repeat(Outcome::timeout));
            task.abort();
            return graphql_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "TIMEOUT",
                format!("the request took longer than {timeout:?} and was stopped"),
            );
        }
    };
    record(&mut responses(&response).map(outcome));
    let status = status(&response);
    let media = media_type(headers).unwrap_or(MediaType::Json);
    // With the GraphQL media type, a request that never ran (it did not
    // parse, validate or pass the limits) is the client's error.
    let refused = responses(&response).any(never_ran);
    let body = match wire::body(&response) {
        Ok(body) => body,
        Err(error) => {
            tracing::error!(%error, request_id, "a GraphQL answer did not serialize");
            return internal_error(&request_id);
        }
    };
    let mut answer = Response::new(axum::body::Body::from(body));
    answer.headers_mut().extend(response.http_headers());
    answer
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(media.content_type()));
    if status == StatusCode::SERVICE_UNAVAILABLE {
        *answer.status_mut() = status;
        answer
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static(DATABASE_RETRY_AFTER));
    } else if refused && media == MediaType::GraphqlResponse {
        *answer.status_mut() = StatusCode::BAD_REQUEST;
    }
    answer
}

/// Runs a batch once, each operation with loaders of its own.
async fn run_batch(state: &AppState, principal: Principal, batch: BatchRequest) -> async_graphql::BatchResponse {
    let queue = LoadQueue::default();
    let with_context =
        |request: async_graphql::Request| request.data(Loaders::new(&state.store, &queue)).data(principal);
    let batch = match batch {
        BatchRequest::Single(request) => BatchRequest::Single(with_context(request)),
        BatchRequest::Batch(requests) => BatchRequest::Batch(requests.into_iter().map(with_context).collect()),
    };
    run_with_loads(queue, state.schema.execute_batch(batch)).await
}

/// The batch as the client sent it, to run again (a request's context
/// data cannot be cloned; it is added per run).
fn copy(batch: &BatchRequest) -> BatchRequest {
    let one = |request: &async_graphql::Request| {
        let mut copy = async_graphql::Request::new(request.query.clone()).variables(request.variables.clone());
        copy.operation_name.clone_from(&request.operation_name);
        copy.extensions.clone_from(&request.extensions);
        copy
    };
    match batch {
        BatchRequest::Single(request) => BatchRequest::Single(one(request)),
        BatchRequest::Batch(requests) => BatchRequest::Batch(requests.iter().map(one).collect()),
    }
}

/// 503 when an operation found the database unavailable (so the client
/// retries), else 200: GraphQL's own errors ride in the body.
/// 503 when the database was out of reach or a write missed its deadline
/// and nothing came of the request (every top-level field is null): then
/// nothing was written, and a retry (even with the same `Idempotency-Key`)
/// runs it again. Otherwise 200, partial answers included.
fn status(response: &async_graphql::BatchResponse) -> StatusCode {
    let failed = responses(response).any(|one| {
        one.errors
            .iter()
            .any(|error| is_unavailable(error) || has_code(error, "TIMEOUT"))
    });
    let nothing = responses(response).all(|one| match &one.data {
        async_graphql::Value::Object(fields) => fields.values().all(|v| *v == async_graphql::Value::Null),
        _ => true,
    });
    if failed && nothing {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    }
}

fn responses(response: &async_graphql::BatchResponse) -> impl Iterator<Item = &async_graphql::Response> {
    match response {
        async_graphql::BatchResponse::Single(one) => std::slice::from_ref(one).iter(),
        async_graphql::BatchResponse::Batch(many) => many.iter(),
    }
}

fn has_code(error: &async_graphql::ServerError, code: &str) -> bool {
    error
        .extensions
        .as_ref()
        .and_then(|e| e.get("code"))
        .is_some_and(|value| *value == async_graphql::Value::from(code))
}

fn is_internal(error: &async_graphql::ServerError) -> bool {
    has_code(error, "INTERNAL")
}

fn is_unavailable(error: &async_graphql::ServerError) -> bool {
    has_code(error, crate::graphql::errors::UNAVAILABLE)
}

fn outcome(response: &async_graphql::Response) -> Outcome {
    match () {
        _ if response.errors.is_empty() => Outcome::ok,
        _ if response.errors.iter().any(is_internal) => Outcome::internal,
        _ if response.errors.iter().any(is_unavailable) => Outcome::unavailable,
        _ => Outcome::error,
    }
}

/// Internal and database-unavailable errors carry the request id, which the
/// log has with the detail.
fn mark_internal_errors(response: &mut async_graphql::BatchResponse, request_id: &str) {
    let responses: Vec<&mut async_graphql::Response> = match response {
        async_graphql::BatchResponse::Single(one) => vec![one],
        async_graphql::BatchResponse::Batch(many) => many.iter_mut().collect(),
    };
    for one in responses {
        for error in &mut one.errors {
            let (unavailable, internal) = (is_unavailable(error), is_internal(error));
            if !unavailable && !internal {
                continue;
            }
            // The one log line of such an error: its detail, under the id
            // the client sees.
            let detail = error
                .source::<crate::graphql::errors::InternalDetail>()
                .map_or(error.message.as_str(), |detail| detail.0.as_str());
            if unavailable {
                tracing::warn!(request_id, error = %detail, "the database is unavailable");
            } else {
                tracing::error!(request_id, error = %detail, "internal error");
            }
            if let Some(extensions) = error.extensions.as_mut() {
                extensions.set("requestId", request_id);
            }
        }
    }
}
