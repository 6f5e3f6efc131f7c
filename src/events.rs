//! Change events (SPEC §12): what tells storefronts that a price changed.
//!
//! - [`subscriptions`]: `Subscription.priceChanges`, fed by every committed
//!   write on any instance and by the edges of price list windows.

pub mod subscriptions;
