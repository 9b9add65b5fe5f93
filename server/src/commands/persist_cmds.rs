//! SAVE and BGSAVE. The work (writing, forking, bookkeeping) is in
//! `persist.rs`; this module only parses arguments and picks Redis's replies.

use super::ctx::{is, CmdResult, Ctx};
use super::spec::{CommandSpec, NO_KEYS};
use crate::errors;
use crate::persist;

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new(
        "save",
        1,
        "admin noscript no_async_loading no_multi",
        "@admin @slow @dangerous",
        NO_KEYS,
        save,
    )
    .doc(
        "server",
        "1.0.0",
        "Synchronously saves the database(s) to disk.",
        "O(N) where N is the total number of keys in all databases",
    ),
    CommandSpec::new(
        "bgsave",
        -1,
        "admin noscript no_async_loading",
        "@admin @slow @dangerous",
        NO_KEYS,
        bgsave,
    )
    .doc(
        "server",
        "1.0.0",
        "Asynchronously saves the database(s) to disk.",
        "O(1)",
    ),
];

const IN_PROGRESS: &str = "ERR Background save already in progress";

fn save(ctx: &mut Ctx) -> CmdResult {
    if ctx.srv.persist.child.is_some() {
        return Err(IN_PROGRESS.into());
    }
    match persist::save_sync(ctx.srv) {
        Ok(()) => {
            ctx.srv.persist.saves += 1;
            ctx.ok();
            Ok(())
        }
        Err(_) => Err("ERR".into()),
    }
}

fn bgsave(ctx: &mut Ctx) -> CmdResult {
    let schedule = match ctx.args.len() {
        1 => false,
        2 if is(&ctx.args[1], "schedule") => true,
        _ => return Err(errors::SYNTAX.into()),
    };
    // Every child we fork writes an RDB, so any running child means a save
    // is in progress, as Redis's CHILD_TYPE_RDB.
    if ctx.srv.persist.child.is_some() {
        return Err(IN_PROGRESS.into());
    }
    if ctx.client.in_exec {
        // Forking inside EXEC is deferred to cron, as in Redis.
        ctx.srv.persist.bgsave_scheduled = true;
        ctx.simple(b"Background saving scheduled");
        return Ok(());
    }
    let _ = schedule; // Only meaningful while another kind of child runs; we have none.
    match persist::bgsave(ctx.srv) {
        Ok(_) => {
            ctx.simple(b"Background saving started");
            Ok(())
        }
        Err(_) => Err("ERR".into()),
    }
}
