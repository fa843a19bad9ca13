//! The Landlock ruleset of a policy: read and execute everywhere, write beneath the writable
//! roots and the devices every program needs.

use std::path::PathBuf;

use std::os::fd::OwnedFd;

use landlock::{
    ABI, Access, AccessFs, AccessNet, Ruleset, RulesetAttr, RulesetCreatedAttr, RulesetError,
    path_beneath_rules,
};

use crate::policy::Policy;

/// The devices and kernel directories every confined command may write: the null and zero
/// devices, the terminal, pseudo-terminals and POSIX shared memory (Python's multiprocessing).
pub const DEVICES: &[&str] =
    &["/dev/null", "/dev/zero", "/dev/full", "/dev/tty", "/dev/ptmx", "/dev/pts", "/dev/shm"];

/// The newest file system rights omk asks for: ABI 5 adds device ioctls; later ABIs add no file
/// system rights. Older kernels get what they support (the crate's best effort).
const FS_ABI: ABI = ABI::V5;

/// The ABI of the TCP rules.
const NET_ABI: ABI = ABI::V4;

/// Why a command cannot be confined.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RestrictError {
    /// The ruleset could not be built.
    #[error("build the Landlock ruleset")]
    Ruleset(#[source] RulesetError),
    /// The kernel would enforce none of it.
    #[error("confine the command: the kernel enforces no Landlock ruleset ({0})")]
    NotEnforced(String),
}

/// Builds the ruleset of `policy`: read and execute everywhere, write beneath the writable roots
/// and [`DEVICES`], and with `network` off no TCP bind or connect. The returned descriptor is
/// applied to a child between fork and exec ([`crate::child`]); it is close-on-exec.
pub(crate) fn ruleset(policy: &Policy) -> Result<OwnedFd, RestrictError> {
    let devices: Vec<PathBuf> = DEVICES.iter().map(PathBuf::from).collect();
    let mut ruleset = Ruleset::default()
        .handle_access(AccessFs::from_all(FS_ABI))
        .map_err(RestrictError::Ruleset)?;
    if !policy.network {
        // No port rule follows, so every TCP bind and connect is refused.
        ruleset =
            ruleset.handle_access(AccessNet::from_all(NET_ABI)).map_err(RestrictError::Ruleset)?;
    }
    let created = ruleset
        .create()
        .and_then(|it| it.add_rules(path_beneath_rules(["/"], AccessFs::from_read(FS_ABI))))
        .and_then(|it| it.add_rules(path_beneath_rules(&devices, AccessFs::from_all(FS_ABI))))
        .and_then(|it| {
            it.add_rules(path_beneath_rules(&policy.writable, AccessFs::from_all(FS_ABI)))
        })
        .map_err(RestrictError::Ruleset)?;
    // Best effort leaves no descriptor when the kernel supports none of the rights asked for.
    Option::<OwnedFd>::from(created).ok_or_else(|| {
        RestrictError::NotEnforced(match crate::child::landlock_abi() {
            Ok(abi) => format!("Landlock ABI {abi} is available but handles none of the rights"),
            Err(reason) => reason,
        })
    })
}
