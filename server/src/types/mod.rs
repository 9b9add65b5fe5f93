//! The collection value types (lists, hashes, sets, sorted sets) with the
//! encodings Redis reports for them. Each type owns its representation and
//! operations; the command modules only call these.

pub mod hash;
pub mod list;
pub mod paged;
pub mod set;
pub mod stream;
pub mod stream_group;
pub mod zset;
pub mod zset_tree;

pub use hash::Hash;
pub use list::List;
pub use set::Set;
pub use stream::Stream;
pub use zset::ZSet;
