//! The routes, one module per area; each handler's parameter and answer types sit beside it.

pub(crate) mod admin;
pub(crate) mod autocomplete;
pub(crate) mod documents;
pub(crate) mod events;
pub(crate) mod facets;
pub(crate) mod health;
pub(crate) mod offers;
pub(crate) mod preview;
pub(crate) mod products;
pub(crate) mod recommendations;
pub(crate) mod rfis;
pub(crate) mod settings;
pub(crate) mod storefront;
pub(crate) mod vendors;
