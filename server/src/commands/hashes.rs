//! (placeholder: this command group is being written)

use super::CommandSpec;

pub const COMMANDS: &[CommandSpec] = &[];
