//! Commits built from files, references read and moved with compare-and-swap, and the git
//! program's `push`, `fetch` and `ls-remote`: what travelling a goal's evidence between clones
//! needs.
//!
//! Objects and local references are written in process with gix; talking to a remote goes
//! through the git program (its transports, credentials and `--atomic`), through `git.rs`.

use std::ffi::OsStr;

use gix::refs::{Target, transaction::PreviousValue};

use crate::{
    error::Error,
    git,
    integrate::GitIdentity,
    repo::{Repo, gix_open},
};

/// A commit written from files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilesCommit {
    /// The commit's id.
    pub commit: String,
    /// Its tree's id.
    pub tree: String,
}

/// One file of a tree: its path (`/`-separated, relative) and bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeFile {
    /// The path inside the tree.
    pub path: String,
    /// The file's content.
    pub content: Vec<u8>,
}

/// How one reference fared in a `git push`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedRef {
    /// The remote reference.
    pub name: String,
    /// git's flag: `*` new, ` ` fast-forward, `+` forced, `=` up to date, `!` rejected.
    pub flag: char,
    /// git's summary, such as `[new reference]` or `[rejected] (non-fast-forward)`.
    pub summary: String,
}

impl PushedRef {
    /// Returns whether the remote refused this reference.
    pub fn rejected(&self) -> bool {
        self.flag == '!'
    }
}

/// What a `git push` did: every reference's line, and whether git succeeded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushOutcome {
    /// One entry per reference pushed.
    pub refs: Vec<PushedRef>,
    /// Whether git exited successfully.
    pub success: bool,
    /// What git wrote to stderr, trimmed.
    pub stderr: String,
    /// Whether the push was atomic (`--atomic`; a remote without support gets a plain push).
    pub atomic: bool,
}

/// Writes `files` as a tree and a commit of it with `parents`, `message` and `who`; writes no
/// reference. Returns the commit and its tree.
pub fn write_files_commit(
    repo: &Repo,
    files: &[TreeFile],
    parents: &[&str],
    message: &str,
    who: GitIdentity<'_>,
) -> Result<FilesCommit, Error> {
    let git = gix_open(&repo.root)?;
    let empty = gix::ObjectId::empty_tree(git.object_hash());
    let mut editor = git.edit_tree(empty).map_err(Error::gix("start a tree", &repo.root))?;
    for file in files {
        let blob = git
            .write_blob(&file.content)
            .map_err(Error::gix(format!("write the blob of {}", file.path), &repo.root))?
            .detach();
        editor
            .upsert(file.path.as_str(), gix::object::tree::EntryKind::Blob, blob)
            .map_err(Error::gix(format!("add {} to a tree", file.path), &repo.root))?;
    }
    let tree = editor.write().map_err(Error::gix("write a tree", &repo.root))?.detach();
    let parents = parents.iter().map(|it| object_id(it)).collect::<Result<Vec<_>, _>>()?;
    let signature = who.identity.signature(who.time);
    let mut time_buf = gix::date::parse::TimeBuf::default();
    let signature = signature.to_ref(&mut time_buf);
    let commit = git
        .new_commit_as(signature, signature, message, tree, parents)
        .map_err(Error::gix("write a commit", &repo.root))?
        .id;
    Ok(FilesCommit { commit: commit.to_string(), tree: tree.to_string() })
}

/// Returns every file of the tree of `commit`, by path, in tree order; `None` when the
/// repository has no such commit.
pub fn read_files_commit(repo: &Repo, commit: &str) -> Result<Option<Vec<TreeFile>>, Error> {
    let git = gix_open(&repo.root)?;
    let Ok(commit) = git.find_commit(object_id(commit)?) else { return Ok(None) };
    let tree = commit.tree().map_err(Error::gix("read a commit's tree", &repo.root))?;
    let mut recorder = gix::traverse::tree::Recorder::default();
    tree.traverse()
        .breadthfirst(&mut recorder)
        .map_err(Error::gix("walk a commit's tree", &repo.root))?;
    let mut files = Vec::new();
    for entry in recorder.records {
        if !entry.mode.is_blob() {
            continue;
        }
        let object = git.find_object(entry.oid).map_err(Error::gix("read a blob", &repo.root))?;
        files.push(TreeFile { path: entry.filepath.to_string(), content: object.data.clone() });
    }
    Ok(Some(files))
}

/// Returns the object the reference `name` (a full name) points at; `None` when there is no
/// such reference.
pub fn ref_target(repo: &Repo, name: &str) -> Result<Option<String>, Error> {
    let git = gix_open(&repo.root)?;
    let reference = git
        .try_find_reference(name)
        .map_err(Error::gix(format!("read reference {name}"), &repo.root))?;
    Ok(reference.and_then(|it| it.target().try_id().map(|id| id.to_string())))
}

/// Returns the full names and targets of the references under `prefix` (such as
/// `refs/omk/fetched/origin/goals/`), sorted by name.
pub fn refs_under(repo: &Repo, prefix: &str) -> Result<Vec<(String, String)>, Error> {
    let git = gix_open(&repo.root)?;
    let platform = git.references().map_err(Error::gix("list references", &repo.root))?;
    let refs = platform
        .prefixed(prefix)
        .map_err(Error::gix(format!("list references under {prefix}"), &repo.root))?;
    let mut found = Vec::new();
    for reference in refs {
        let Ok(reference) = reference else { continue };
        if let Some(id) = reference.target().try_id() {
            found.push((reference.name().as_bstr().to_string(), id.to_hex().to_string()));
        }
    }
    found.sort();
    Ok(found)
}

/// Points the reference `name` at `target`, only if it still names `expected` (`None`: only
/// if it does not exist yet); a reference that moved is an [`Error::RefMoved`].
pub fn set_ref(
    repo: &Repo,
    name: &str,
    target: &str,
    expected: Option<&str>,
    message: &str,
) -> Result<(), Error> {
    let git = gix_open(&repo.root)?;
    let full = gix::refs::FullName::try_from(name).map_err(|err| Error::InvalidName {
        what: "reference",
        name: name.to_owned(),
        problem: err.to_string(),
    })?;
    let previous = match expected {
        Some(old) => PreviousValue::MustExistAndMatch(Target::Object(object_id(old)?)),
        None => PreviousValue::MustNotExist,
    };
    let Err(err) = git.reference(full, object_id(target)?, previous, message) else {
        return Ok(());
    };
    // Only a reference that holds something else moved; anything else (a lock file a killed
    // process left, a full disk) is gix's error.
    let now = git
        .try_find_reference(name)
        .ok()
        .flatten()
        .and_then(|it| it.target().try_id().map(|id| id.to_string()));
    if now.as_deref() != expected {
        return Err(Error::RefMoved {
            reference: name.to_owned(),
            expected: expected.unwrap_or("nothing (a new reference)").to_owned(),
        });
    }
    Err(Error::gix(format!("update reference {name}"), &repo.root)(err))
}

/// Returns whether `ancestor` is `descendant` or one of its ancestors; `false` when the
/// repository lacks either commit.
pub fn is_ancestor(repo: &Repo, ancestor: &str, descendant: &str) -> Result<bool, Error> {
    if ancestor == descendant {
        return Ok(true);
    }
    let git = gix_open(&repo.root)?;
    let (ancestor, descendant) = (object_id(ancestor)?, object_id(descendant)?);
    if !git.has_object(ancestor) || !git.has_object(descendant) {
        return Ok(false);
    }
    Ok(git
        .merge_base(ancestor, descendant)
        .is_ok_and(|base| base.is_some_and(|it| it.detach() == ancestor)))
}

/// Returns the bytes of the blob `id`; `None` when the repository has no such blob.
pub fn read_blob(repo: &Repo, id: &str) -> Result<Option<Vec<u8>>, Error> {
    let git = gix_open(&repo.root)?;
    match git.try_find_object(object_id(id)?) {
        Ok(Some(object)) if object.kind == gix::object::Kind::Blob => Ok(Some(object.data.clone())),
        Ok(_) => Ok(None),
        Err(err) => Err(Error::gix(format!("read blob {id}"), &repo.root)(err)),
    }
}

/// Returns whether the repository has the object `id`.
pub fn has_object(repo: &Repo, id: &str) -> Result<bool, Error> {
    Ok(gix_open(&repo.root)?.has_object(object_id(id)?))
}

/// Returns the names of the repository's configured remotes, sorted.
pub fn remote_names(repo: &Repo) -> Result<Vec<String>, Error> {
    let git = gix_open(&repo.root)?;
    let mut names: Vec<String> = git.remote_names().iter().map(|it| it.to_string()).collect();
    names.sort();
    Ok(names)
}

/// Returns the references of `remote` that `patterns` match (`git ls-remote`), name and object.
pub fn ls_remote(
    repo: &Repo,
    remote: &str,
    patterns: &[&str],
) -> Result<Vec<(String, String)>, Error> {
    let mut args = vec!["ls-remote", "--refs", remote];
    args.extend_from_slice(patterns);
    let out = git::run(&repo.root, &args)?;
    Ok(out
        .lines()
        .filter_map(|line| {
            let (id, name) = line.split_once('\t')?;
            Some((name.to_owned(), id.to_owned()))
        })
        .collect())
}

/// Pushes `refspecs` to `remote` in one `git push --atomic --porcelain`, with `leases` as
/// `--force-with-lease=REF:EXPECTED` (an empty expected value: the reference must not exist).
///
/// A rejected reference is not an error: it is in the outcome, with git's reason. A remote that
/// does not support atomic pushes gets the same push without `--atomic`.
pub fn push(
    repo: &Repo,
    remote: &str,
    refspecs: &[String],
    leases: &[(String, String)],
) -> Result<PushOutcome, Error> {
    let attempt = |atomic: bool| {
        let mut args: Vec<String> = vec!["push".into(), "--porcelain".into(), "--no-verify".into()];
        if atomic {
            args.push("--atomic".into());
        }
        for (name, expected) in leases {
            args.push(format!("--force-with-lease={name}:{expected}"));
        }
        args.push(remote.to_owned());
        args.extend(refspecs.iter().cloned());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        git::output(&repo.root, &args, &[])
    };
    let (mut atomic, mut out) = (true, attempt(true)?);
    if !out.success && out.stderr.contains("does not support --atomic") {
        (atomic, out) = (false, attempt(false)?);
    }
    let refs = out
        .stdout
        .lines()
        .filter_map(|line| {
            let mut parts = line.splitn(3, '\t');
            let flag = parts.next()?.chars().next()?;
            let (_, to) = parts.next()?.split_once(':')?;
            let summary = parts.next().unwrap_or_default().to_owned();
            Some(PushedRef { name: to.to_owned(), flag, summary })
        })
        .collect();
    Ok(PushOutcome { refs, success: out.success, stderr: out.stderr, atomic })
}

/// Fetches `refspecs` from `remote` (`git fetch --no-tags --no-write-fetch-head`).
pub fn fetch(repo: &Repo, remote: &str, refspecs: &[String]) -> Result<(), Error> {
    let mut args: Vec<&str> =
        vec!["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--prune", remote];
    args.extend(refspecs.iter().map(String::as_str));
    git::run_with_env(&repo.root, &args, &[("GIT_TERMINAL_PROMPT", OsStr::new("0"))])?;
    Ok(())
}

/// Parses `id` as an object id.
fn object_id(id: &str) -> Result<gix::ObjectId, Error> {
    gix::ObjectId::from_hex(id.as_bytes()).map_err(|err| Error::InvalidName {
        what: "object id",
        name: id.to_owned(),
        problem: err.to_string(),
    })
}
