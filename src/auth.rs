//! Who is asking (docs/api.md#authentication): bearer API keys with a role, or a signed
//! customer token bound to one customer; with nothing configured, an open
//! development mode that only a loopback listener may use.
//!
//! Keys are kept as SHA-256 digests only, and a presented key is compared
//! with every configured digest in constant time. Customer tokens are JWTs
//! signed with HS256 and the configured secret, with a required `exp`, the
//! customer id as `sub` and the configured `aud`; any other algorithm
//! (`none` included) is refused.

use std::net::IpAddr;
use std::path::Path;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

/// What a caller may do; the GraphQL schema's access extension applies the rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Principal {
    /// Everything (an `admin` key, or the open development mode).
    Admin,
    /// Catalog reads and price resolution, for any customer.
    Storefront,
    /// One customer: its own prices, itself and its groups, the catalog.
    Customer(Uuid),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Admin,
    Storefront,
}

impl Role {
    fn parse(raw: &str) -> Option<Self> {
        match raw {
            "admin" => Some(Role::Admin),
            "storefront" => Some(Role::Storefront),
            _ => None,
        }
    }
}

struct ApiKey {
    role: Role,
    digest: [u8; 32],
}

struct CustomerTokens {
    key: DecodingKey,
    validation: Validation,
}

/// The configured credentials.
pub struct Auth {
    keys: Vec<ApiKey>,
    tokens: Option<CustomerTokens>,
}

/// Why a request's credentials were refused (401).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    #[error("this server needs credentials: send `Authorization: Bearer <API key or customer token>`")]
    Missing,
    #[error("the Authorization header must be `Bearer <API key or customer token>`")]
    Malformed,
    #[error("unknown API key")]
    UnknownKey,
    #[error("customer token refused: {0}")]
    Token(String),
}

/// A configuration mistake, reported at start-up.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(String);

/// Where credentials come from, as given by flags and environment.
#[derive(Clone, Debug, Default)]
pub struct AuthSettings {
    /// `role:key` pairs, comma-separated (plain keys, hashed on load).
    pub api_keys: Option<String>,
    /// A file of `role sha256:<hex digest>` lines.
    pub api_keys_file: Option<std::path::PathBuf>,
    pub jwt_secret: Option<String>,
    pub jwt_audience: String,
}

pub fn digest(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// A key's line for an API keys file.
pub fn key_file_line(role: &str, key: &str) -> String {
    let hex: String = digest(key).iter().map(|b| format!("{b:02x}")).collect();
    format!("{role} sha256:{hex}")
}

impl Auth {
    /// No credentials at all: every request is admin (development only).
    pub fn open() -> Self {
        Self {
            keys: Vec::new(),
            tokens: None,
        }
    }

    pub fn is_open(&self) -> bool {
        self.keys.is_empty() && self.tokens.is_none()
    }

    pub fn from_settings(settings: &AuthSettings) -> Result<Self, ConfigError> {
        let mut keys = Vec::new();
        if let Some(pairs) = settings.api_keys.as_deref().filter(|p| !p.trim().is_empty()) {
            for (n, pair) in pairs.split(',').map(str::trim).enumerate() {
                let (role, key) = pair.split_once(':').ok_or_else(|| {
                    ConfigError(format!(
                        "PRICEGRAPH_API_KEYS entry {}: expected `role:key`, e.g. `admin:…`",
                        n + 1
                    ))
                })?;
                let role = Role::parse(role.trim()).ok_or_else(|| {
                    ConfigError(format!(
                        "PRICEGRAPH_API_KEYS entry {}: unknown role '{}' (admin or storefront)",
                        n + 1,
                        role.trim()
                    ))
                })?;
                keys.push(Self::plain_key(
                    role,
                    key.trim(),
                    &format!("PRICEGRAPH_API_KEYS entry {}", n + 1),
                )?);
            }
        }
        if let Some(path) = &settings.api_keys_file {
            keys.extend(read_key_file(path)?);
        }
        let tokens = match settings.jwt_secret.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some(secret) if secret.len() < 32 => {
                return Err(ConfigError(
                    "PRICEGRAPH_JWT_SECRET must be at least 32 bytes long".to_owned(),
                ));
            }
            Some(secret) => {
                let mut validation = Validation::new(Algorithm::HS256);
                validation.set_audience(&[settings.jwt_audience.as_str()]);
                validation.set_required_spec_claims(&["exp", "sub", "aud"]);
                // A token not valid yet (`nbf`) is refused like an expired
                // one, with the same small leeway for clocks that drift.
                validation.validate_nbf = true;
                validation.leeway = LEEWAY_SECONDS;
                Some(CustomerTokens {
                    key: DecodingKey::from_secret(secret.as_bytes()),
                    validation,
                })
            }
        };
        Ok(Self { keys, tokens })
    }

    fn plain_key(role: Role, key: &str, place: &str) -> Result<ApiKey, ConfigError> {
        if key.len() < 16 {
            return Err(ConfigError(format!(
                "{place}: an API key must be at least 16 characters long"
            )));
        }
        Ok(ApiKey {
            role,
            digest: digest(key),
        })
    }

    /// The principal behind an `Authorization` header.
    pub fn authenticate(&self, authorization: Option<&str>) -> Result<Principal, AuthError> {
        if self.is_open() {
            return Ok(Principal::Admin);
        }
        let header = authorization.ok_or(AuthError::Missing)?;
        let (scheme, credential) = header.trim().split_once(' ').ok_or(AuthError::Malformed)?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(AuthError::Malformed);
        }
        let credential = credential.trim();
        if credential.is_empty() {
            return Err(AuthError::Malformed);
        }
        if let Some(role) = self.key_role(credential) {
            return Ok(match role {
                Role::Admin => Principal::Admin,
                Role::Storefront => Principal::Storefront,
            });
        }
        match &self.tokens {
            Some(tokens) if credential.split('.').count() == 3 => tokens.customer(credential),
            _ => Err(AuthError::UnknownKey),
        }
    }

    /// Compares with every key, whatever matches, in constant time each.
    fn key_role(&self, presented: &str) -> Option<Role> {
        let presented = digest(presented);
        let mut found = None;
        for key in &self.keys {
            if bool::from(key.digest.ct_eq(&presented)) {
                found = Some(key.role);
            }
        }
        found
    }
}

/// Clock drift allowed between the token's issuer and this server.
const LEEWAY_SECONDS: u64 = 5;

#[derive(Deserialize)]
struct Claims {
    sub: String,
    /// When the token was issued; one issued in the future is refused.
    iat: Option<i64>,
}

impl CustomerTokens {
    fn customer(&self, token: &str) -> Result<Principal, AuthError> {
        use jsonwebtoken::errors::ErrorKind;
        let data = jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation).map_err(|error| {
            AuthError::Token(
                match error.kind() {
                    ErrorKind::ExpiredSignature => "it has expired",
                    ErrorKind::InvalidSignature => "its signature does not match",
                    ErrorKind::InvalidAlgorithm => "only HS256 tokens are accepted",
                    ErrorKind::InvalidAudience => "it is for another audience (`aud`)",
                    ErrorKind::MissingRequiredClaim(_) => "it lacks a required claim (`exp`, `sub` and `aud`)",
                    ErrorKind::ImmatureSignature => "it is not valid yet (`nbf`)",
                    _ => "it is not a well-formed HS256 token",
                }
                .to_owned(),
            )
        })?;
        let now = chrono::Utc::now().timestamp();
        if data
            .claims
            .iat
            .is_some_and(|iat| iat > now.saturating_add(LEEWAY_SECONDS as i64))
        {
            return Err(AuthError::Token("it was issued in the future (`iat`)".to_owned()));
        }
        let customer = Uuid::parse_str(&data.claims.sub)
            .map_err(|_| AuthError::Token("its `sub` is not a customer id".to_owned()))?;
        Ok(Principal::Customer(customer))
    }
}

fn read_key_file(path: &Path) -> Result<Vec<ApiKey>, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError(format!("cannot read the API keys file {}: {e}", path.display())))?;
    let mut keys = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        let place = || format!("{} line {}", path.display(), n + 1);
        let mut words = line.split_whitespace();
        let (Some(role), Some(hash), None) = (words.next(), words.next(), words.next()) else {
            return Err(ConfigError(format!(
                "{}: expected `role sha256:<64 hex digits>`",
                place()
            )));
        };
        let role = Role::parse(role)
            .ok_or_else(|| ConfigError(format!("{}: unknown role '{role}' (admin or storefront)", place())))?;
        let digest = hash
            .strip_prefix("sha256:")
            .and_then(parse_hex)
            .ok_or_else(|| ConfigError(format!("{}: the key must be given as sha256:<64 hex digits>", place())))?;
        keys.push(ApiKey { role, digest });
    }
    Ok(keys)
}

fn parse_hex(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 || !hex.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// Refuses an open server anywhere but on a loopback address.
pub fn check_listen(auth: &Auth, ip: IpAddr) -> Result<(), ConfigError> {
    if auth.is_open() && !ip.is_loopback() {
        return Err(ConfigError(format!(
            "refusing to listen on {ip} with no credentials configured: set PRICEGRAPH_API_KEYS \
             (or PRICEGRAPH_API_KEYS_FILE, PRICEGRAPH_JWT_SECRET), or listen on 127.0.0.1 for development"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> AuthSettings {
        AuthSettings {
            api_keys: Some("admin:admin-key-0123456789, storefront:shop-key-0123456789".to_owned()),
            jwt_audience: "pricegraph".to_owned(),
            ..AuthSettings::default()
        }
    }

    #[test]
    fn keys_map_to_their_roles_and_nothing_else_passes() {
        let auth = Auth::from_settings(&settings()).expect("valid settings");
        assert_eq!(
            auth.authenticate(Some("Bearer admin-key-0123456789")),
            Ok(Principal::Admin)
        );
        assert_eq!(
            auth.authenticate(Some("bearer shop-key-0123456789")),
            Ok(Principal::Storefront)
        );
        assert_eq!(auth.authenticate(None), Err(AuthError::Missing));
        assert_eq!(auth.authenticate(Some("Basic abc")), Err(AuthError::Malformed));
        assert_eq!(auth.authenticate(Some("Bearer ")), Err(AuthError::Malformed));
        assert_eq!(
            auth.authenticate(Some("Bearer admin-key-012345678")),
            Err(AuthError::UnknownKey)
        );
    }

    #[test]
    fn a_key_file_holds_digests_only() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join("keys");
        std::fs::write(
            &path,
            format!(
                "# ops keys\n{}  # the CI key\n",
                key_file_line("admin", "file-key-0123456789")
            ),
        )
        .expect("written");
        let auth = Auth::from_settings(&AuthSettings {
            api_keys_file: Some(path.clone()),
            ..AuthSettings::default()
        })
        .expect("valid file");
        assert_eq!(
            auth.authenticate(Some("Bearer file-key-0123456789")),
            Ok(Principal::Admin)
        );
        std::fs::write(&path, "admin file-key-0123456789\n").expect("written");
        let refused = Auth::from_settings(&AuthSettings {
            api_keys_file: Some(path),
            ..AuthSettings::default()
        });
        assert!(refused.is_err_and(|e| e.to_string().contains("line 1")));
    }

    #[test]
    fn bad_settings_say_what_is_wrong() {
        for (keys, expected) in [
            ("admin", "expected `role:key`"),
            ("root:abcdefghijklmnopqrstuvwxyz", "unknown role 'root'"),
            ("admin:short", "at least 16"),
        ] {
            let error = Auth::from_settings(&AuthSettings {
                api_keys: Some(keys.to_owned()),
                ..AuthSettings::default()
            })
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
            assert!(error.contains(expected), "{keys}: {error}");
        }
    }

    #[test]
    fn an_open_server_listens_only_on_loopback() {
        let open = Auth::open();
        assert!(check_listen(&open, "127.0.0.1".parse().expect("ip")).is_ok());
        assert!(check_listen(&open, "::1".parse().expect("ip")).is_ok());
        assert!(check_listen(&open, "0.0.0.0".parse().expect("ip")).is_err());
        let keyed = Auth::from_settings(&settings()).expect("valid settings");
        assert!(check_listen(&keyed, "0.0.0.0".parse().expect("ip")).is_ok());
    }
}
