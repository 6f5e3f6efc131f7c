//! The shape of a request, checked before anything parses it: how deep it
//! nests, and how many tokens and field names its document holds.
//!
//! The GraphQL parser (and serde, and async-graphql's value handling after
//! it) recurse once per level of `[`, `{` or `(`. A 12 KB document of
//! nested list literals is enough to overflow a worker thread's stack and
//! abort the whole process, so the nesting is counted here by a flat scan
//! that recurses nowhere, and a request past the limit is refused before
//! the parser sees it. Selections, object and list literals, arguments,
//! directive arguments and variable defaults all nest with these three
//! brackets, so one count covers them; variables are JSON values and are
//! measured the same way.
//!
//! The parser's time grows with the document too: 55,000 aliased fields
//! (1 MB) took seconds to parse, twice (once to see whether it is a
//! mutation, once to run it), before any limit could look at the parsed
//! document. The same scan counts tokens and the names outside argument
//! lists (aliases, fields, fragments), and refuses a document past
//! [`MAX_TOKENS`] or [`MAX_FIELD_NAMES`] unparsed. The precise count of
//! fields, fragments expanded, is [`super::cost`]'s, once parsed.

use async_graphql::Value;

/// The deepest nesting of brackets (selection sets, arguments, list and
/// object literals) a document may have. Far above any real query (the
/// query depth limit is 15 selections), far below what overflows a stack.
pub const MAX_NESTING: usize = 64;

/// Tokens a document may hold: a query with a thousand inline items is
/// about 8,000; larger inputs belong in variables.
pub const MAX_TOKENS: usize = 50_000;

/// Names outside argument lists a document may hold: an alias and its
/// field are two, so this leaves room for [`super::cost::MAX_SELECTIONS`]
/// aliased fields with their fragments and keywords.
pub const MAX_FIELD_NAMES: usize = 3 * super::cost::MAX_SELECTIONS;

/// Why a request was refused unparsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The document or its variables (`part`) nest deeper than [`MAX_NESTING`].
    TooNested { part: &'static str },
    /// The document holds more than [`MAX_TOKENS`] tokens.
    TooManyTokens,
    /// The document holds more than [`MAX_FIELD_NAMES`] names outside argument lists.
    TooManyFieldNames,
}

impl Refusal {
    /// The error's `extensions.code`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooNested { .. } => "QUERY_TOO_DEEP",
            Self::TooManyTokens | Self::TooManyFieldNames => "QUERY_TOO_COMPLEX",
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TooNested { part } => write!(
                f,
                "the request's `{part}` nests lists, objects or selections more than {MAX_NESTING} levels deep"
            ),
            Self::TooManyTokens => write!(
                f,
                "the document holds more than {MAX_TOKENS} tokens; send large inputs as variables"
            ),
            Self::TooManyFieldNames => write!(
                f,
                "the document holds more than {MAX_FIELD_NAMES} field names and aliases; at most {} fields may be selected",
                super::cost::MAX_SELECTIONS
            ),
        }
    }
}

/// Checks a request's document and variables.
pub fn check(request: &async_graphql::Request) -> Result<(), Refusal> {
    let shape = scan(&request.query);
    if shape.deepest > MAX_NESTING {
        return Err(Refusal::TooNested { part: "query" });
    }
    if shape.field_names > MAX_FIELD_NAMES {
        return Err(Refusal::TooManyFieldNames);
    }
    if shape.tokens > MAX_TOKENS {
        return Err(Refusal::TooManyTokens);
    }
    let variables = request.variables.values();
    if variables.map(value_nesting).max().unwrap_or(0) > MAX_NESTING {
        return Err(Refusal::TooNested { part: "variables" });
    }
    Ok(())
}

/// What a flat scan of a document finds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Shape {
    /// The deepest nesting of `[`, `{` and `(`.
    pub deepest: usize,
    /// Names, numbers, strings and punctuators.
    pub tokens: usize,
    /// Names outside parentheses: aliases, fields, fragment names,
    /// keywords, directives (everything a selection set is made of).
    pub field_names: usize,
}

/// The deepest bracket nesting in a GraphQL document (see [`scan`]).
pub fn document_nesting(document: &str) -> usize {
    scan(document).deepest
}

/// Scans a document once, skipping comments and counting strings and
/// block strings as one token. Stray closing brackets count as nothing:
/// the parser refuses them anyway.
pub fn scan(document: &str) -> Shape {
    let bytes = document.as_bytes();
    let mut shape = Shape::default();
    let (mut depth, mut parens, mut i) = (0usize, 0usize, 0usize);
    let is_name = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    while i < bytes.len() {
        let byte = bytes[i];
        if is_name(byte) || byte == b'-' {
            let start = i;
            while i < bytes.len() && (is_name(bytes[i]) || matches!(bytes[i], b'.' | b'-' | b'+')) {
                i += 1;
            }
            shape.tokens += 1;
            if parens == 0 && !bytes[start].is_ascii_digit() && bytes[start] != b'-' {
                shape.field_names += 1;
            }
            continue;
        }
        if !byte.is_ascii_whitespace() && byte != b',' && byte != b'#' {
            shape.tokens += 1;
        }
        match byte {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    // `\"""` is an escaped triple quote inside a block string.
                    i += if bytes[i..].starts_with(b"\\\"\"\"") { 4 } else { 1 };
                }
                i += 2;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'[' | b'{' | b'(' => {
                depth += 1;
                shape.deepest = shape.deepest.max(depth);
                parens += usize::from(byte == b'(');
            }
            b']' | b'}' | b')' => {
                depth = depth.saturating_sub(1);
                parens = parens.saturating_sub(usize::from(byte == b')'));
            }
            b'.' if bytes[i..].starts_with(b"...") => i += 2,
            _ => {}
        }
        i += 1;
    }
    shape
}

/// How deep a value nests lists and objects (a scalar is 0), walked with a
/// stack of its own rather than by recursion.
pub fn value_nesting(value: &Value) -> usize {
    let mut deepest = 0;
    let mut stack: Vec<(&Value, usize)> = vec![(value, 0)];
    while let Some((value, depth)) = stack.pop() {
        deepest = deepest.max(depth);
        match value {
            Value::List(items) => stack.extend(items.iter().map(|item| (item, depth + 1))),
            Value::Object(fields) => stack.extend(fields.values().map(|field| (field, depth + 1))),
            _ => {}
        }
    }
    deepest
}

#[cfg(test)]
mod tests {
    use async_graphql::Name;

    use super::*;

    fn name(text: &str) -> Name {
        Name::new(text)
    }

    fn nested(open: &str, close: &str, levels: usize) -> String {
        format!("{}1{}", open.repeat(levels), close.repeat(levels))
    }

    #[test]
    fn counts_brackets_of_every_kind() {
        let table = [
            ("{ a }", 1),
            ("{ a { b { c } } }", 3),
            ("{ a(b: [1, 2]) }", 3),
            ("{ a(b: {c: [[1]]}) }", 5),
            ("query($v: [[Int]] = [[1]]) { a @d(x: [[[1]]]) }", 5),
            ("{ a(b: \"[[[[[\") }", 2),
            ("{ a(b: \"\\\"[[[[\") }", 2),
            ("{ a(b: \"\"\"[[[ \\\"\"\" [[[ \"\"\") }", 2),
            ("# [[[[[[\n{ a }", 1),
            ("}}}}{ a }", 1),
            ("", 0),
        ];
        for (document, expected) in table {
            assert_eq!(document_nesting(document), expected, "{document}");
        }
    }

    #[test]
    fn an_unterminated_string_or_comment_ends_the_scan() {
        assert_eq!(document_nesting("{ a(b: \"[[[["), 2);
        assert_eq!(document_nesting("{ a(b: \"\"\"[[[["), 2);
        assert_eq!(document_nesting("{ # [[[["), 1);
    }

    #[test]
    fn a_request_past_the_limit_is_refused_by_part() {
        let at_limit = format!("{{ a(b: {}) }}", nested("[", "]", MAX_NESTING - 2));
        assert_eq!(check(&async_graphql::Request::new(at_limit)), Ok(()));
        let past = format!("{{ a(b: {}) }}", nested("[", "]", MAX_NESTING - 1));
        assert_eq!(
            check(&async_graphql::Request::new(past)),
            Err(Refusal::TooNested { part: "query" })
        );

        let mut value = Value::from(1);
        for level in 0..=MAX_NESTING {
            value = if level % 2 == 0 {
                Value::List(vec![value])
            } else {
                Value::Object([(name("x"), value)].into_iter().collect())
            };
        }
        assert_eq!(value_nesting(&value), MAX_NESTING + 1);
        let variables =
            async_graphql::Variables::from_value(Value::Object([(name("deep"), value)].into_iter().collect()));
        let request = async_graphql::Request::new("{ a }").variables(variables);
        assert_eq!(check(&request), Err(Refusal::TooNested { part: "variables" }));
    }

    #[test]
    fn tokens_and_field_names_are_counted_without_parsing() {
        let table = [
            ("{ a }", 3, 1),
            ("{ x: a y: b }", 8, 4),
            (
                "query Q($v: Int = 5) { a(b: $v, c: [1, 2], d: {e: \"f g\"}) @skip(if: true) { ...F } }",
                43,
                5,
            ),
            ("fragment F on Query { a } # many words in a comment", 7, 5),
            ("{ a(b: -1.5e+3) }", 8, 1),
        ];
        for (document, tokens, names) in table {
            let shape = scan(document);
            assert_eq!((shape.tokens, shape.field_names), (tokens, names), "{document}");
        }
        let aliases: String = (0..MAX_FIELD_NAMES).map(|i| format!("a{i}: __typename ")).collect();
        let request = async_graphql::Request::new(format!("{{ {aliases} }}"));
        assert_eq!(check(&request), Err(Refusal::TooManyFieldNames));
        let literal: String = "1, ".repeat(MAX_TOKENS);
        let request = async_graphql::Request::new(format!("{{ a(b: [{literal}]) }}"));
        assert_eq!(check(&request), Err(Refusal::TooManyTokens));
    }
}
