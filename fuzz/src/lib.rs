//! The StreamReader model shared by the fuzz target and the seeded test on stable.
pub use tulip_net;

pub mod model;
