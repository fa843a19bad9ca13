//! The Landlock ruleset of a policy: read and execute everywhere, write beneath the writable
//! roots and the devices every program needs.

use std::{
    os::{fd::OwnedFd, unix::fs::MetadataExt},
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
};

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

/// How many rulesets [`ruleset`] keeps: a run's agent, gates and setup use a few policies.
const KEPT_RULESETS: usize = 16;

/// A ruleset built for a policy's writable roots and network.
struct Kept {
    writable: Vec<PathBuf>,
    network: bool,
    /// The device and inode of each writable root when the ruleset was built: a rule holds the
    /// directory it opened, so a root removed and made again needs a new ruleset.
    identities: Vec<Option<(u64, u64)>>,
    ruleset: Arc<OwnedFd>,
}

/// Returns the device and inode of `path`, or `None` when it does not exist.
fn identity(path: &Path) -> Option<(u64, u64)> {
    std::fs::metadata(path).ok().map(|it| (it.dev(), it.ino()))
}

/// The rulesets built so far, newest last.
static RULESETS: Mutex<Vec<Kept>> = Mutex::new(Vec::new());

/// Returns the ruleset of `policy` ([`build`]), built once per writable roots and network: a
/// ruleset opens every root and device, which would cost each gate dozens of system calls. One
/// is kept only when all its writable roots existed, since a missing root is left out of it, and
/// serves only while each root is still the directory it was.
pub(crate) fn ruleset(policy: &Policy) -> Result<Arc<OwnedFd>, RestrictError> {
    let mut kept = RULESETS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let identities: Vec<Option<(u64, u64)>> =
        policy.writable.iter().map(|it| identity(it)).collect();
    if let Some(it) = kept.iter().find(|it| {
        it.writable == policy.writable
            && it.network == policy.network
            && it.identities == identities
    }) {
        return Ok(Arc::clone(&it.ruleset));
    }
    let ruleset = Arc::new(build(policy)?);
    if identities.iter().all(Option::is_some) {
        kept.retain(|it| it.writable != policy.writable || it.network != policy.network);
        if kept.len() == KEPT_RULESETS {
            kept.remove(0);
        }
        kept.push(Kept {
            writable: policy.writable.clone(),
            network: policy.network,
            identities,
            ruleset: Arc::clone(&ruleset),
        });
    }
    Ok(ruleset)
}

/// Builds the ruleset of `policy`: read and execute everywhere, write beneath the writable roots
/// and [`DEVICES`], and with `network` off no TCP bind or connect. The returned descriptor is
/// applied to a child between fork and exec ([`crate::child`]); it is close-on-exec.
fn build(policy: &Policy) -> Result<OwnedFd, RestrictError> {
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
