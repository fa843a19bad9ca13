//! The Landlock ruleset of a policy: read and execute everywhere, write beneath the writable
//! roots and the devices every program needs.

use std::path::PathBuf;

use landlock::{
    ABI, Access, AccessFs, AccessNet, LandlockStatus, RestrictionStatus, Ruleset, RulesetAttr,
    RulesetCreatedAttr, RulesetError, RulesetStatus, path_beneath_rules,
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

/// Why the launcher could not confine itself.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RestrictError {
    /// The ruleset could not be built or applied.
    #[error("apply the Landlock ruleset")]
    Ruleset(#[source] RulesetError),
    /// The kernel enforced none of it.
    #[error("confine the command: the kernel enforces no Landlock ruleset ({0})")]
    NotEnforced(String),
}

/// Applies the ruleset of `policy` to this thread and what it starts afterwards.
pub(crate) fn restrict(policy: &Policy) -> Result<RestrictionStatus, RestrictError> {
    let devices: Vec<PathBuf> = DEVICES.iter().map(PathBuf::from).collect();
    let mut ruleset = Ruleset::default()
        .handle_access(AccessFs::from_all(FS_ABI))
        .map_err(RestrictError::Ruleset)?;
    if !policy.network {
        // No port rule follows, so every TCP bind and connect is refused.
        ruleset =
            ruleset.handle_access(AccessNet::from_all(NET_ABI)).map_err(RestrictError::Ruleset)?;
    }
    let status = ruleset
        .create()
        .and_then(|it| it.add_rules(path_beneath_rules(["/"], AccessFs::from_read(FS_ABI))))
        .and_then(|it| it.add_rules(path_beneath_rules(&devices, AccessFs::from_all(FS_ABI))))
        .and_then(|it| {
            it.add_rules(path_beneath_rules(&policy.writable, AccessFs::from_all(FS_ABI)))
        })
        .and_then(|it| it.restrict_self())
        .map_err(RestrictError::Ruleset)?;
    if status.ruleset == RulesetStatus::NotEnforced {
        return Err(RestrictError::NotEnforced(describe(status.landlock)));
    }
    Ok(status)
}

/// Returns the ABI the kernel enforces, or why there is none, by applying a ruleset that
/// handles every file system right and allows them all beneath `/`.
pub(crate) fn probe_abi() -> Result<u32, String> {
    let status = Ruleset::default()
        .handle_access(AccessFs::from_all(FS_ABI))
        .and_then(|it| it.create())
        .and_then(|it| it.add_rules(path_beneath_rules(["/"], AccessFs::from_all(FS_ABI))))
        .and_then(|it| it.restrict_self())
        .map_err(|err| err.to_string())?;
    match (status.ruleset, status.landlock) {
        (RulesetStatus::NotEnforced, landlock) => Err(describe(landlock)),
        (_, LandlockStatus::Available { effective_abi, kernel_abi }) => {
            Ok(kernel_abi.and_then(|it| u32::try_from(it).ok()).unwrap_or(effective_abi as u32))
        }
        (_, landlock) => Err(describe(landlock)),
    }
}

fn describe(landlock: LandlockStatus) -> String {
    match landlock {
        LandlockStatus::NotEnabled => {
            "Landlock is built into the kernel but not enabled".to_owned()
        }
        LandlockStatus::NotImplemented => "the kernel has no Landlock".to_owned(),
        LandlockStatus::Available { effective_abi, .. } => {
            format!("Landlock ABI {} is available but enforced nothing", effective_abi as u32)
        }
    }
}
