//! References that point at a blob: small records omk keeps in the repository's refs rather
//! than in files, read and replaced with compare-and-swap.
//!
//! Such a reference is neither a branch nor a tag, so `git log --all` and checkouts ignore it,
//! and `git gc` keeps its blob because the reference names it. Writing one writes a blob object
//! and moves the reference: the working tree, the index and `HEAD` of every checkout stay as
//! they are.

use gix::refs::{Target, transaction::PreviousValue};

use crate::{
    error::Error,
    repo::{Repo, gix_open},
};

/// The blob a reference points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobRef {
    /// The blob's object id, the value a compare-and-swap update expects.
    pub id: String,
    /// The blob's bytes.
    pub content: Vec<u8>,
}

/// Returns the blob the reference `name` (a full name such as `refs/omk/anchors/<goal>`)
/// points at; `None` when there is no such reference.
///
/// A reference that points at anything but a blob is an [`Error::InvalidName`] naming it.
pub fn read_blob_ref(repo: &Repo, name: &str) -> Result<Option<BlobRef>, Error> {
    let git = gix_open(&repo.root)?;
    let full = reference_name(name)?;
    let reference = git
        .try_find_reference(full.as_ref())
        .map_err(Error::gix(format!("read reference {name}"), &repo.root))?;
    let Some(reference) = reference else { return Ok(None) };
    let Some(id) = reference.target().try_id().map(ToOwned::to_owned) else {
        return Err(Error::InvalidName {
            what: "blob reference",
            name: name.to_owned(),
            problem: "it is a symbolic reference, not one that names a blob".to_owned(),
        });
    };
    let object = git
        .find_object(id)
        .map_err(Error::gix(format!("read the object of {name}"), &repo.root))?;
    if object.kind != gix::object::Kind::Blob {
        return Err(Error::InvalidName {
            what: "blob reference",
            name: name.to_owned(),
            problem: format!("it names a {}, not a blob", object.kind),
        });
    }
    Ok(Some(BlobRef { id: id.to_string(), content: object.data.clone() }))
}

/// Writes `content` as a blob and points the reference `name` at it, only if the reference
/// still names `expected` (`None`: only if it does not exist yet).
///
/// A reference that moved meanwhile is an [`Error::RefMoved`]; the caller reads it again and
/// retries, so two writers never lose each other's update.
pub fn write_blob_ref(
    repo: &Repo,
    name: &str,
    expected: Option<&str>,
    content: &[u8],
    message: &str,
) -> Result<String, Error> {
    let git = gix_open(&repo.root)?;
    let full = reference_name(name)?;
    let blob = git
        .write_blob(content)
        .map_err(Error::gix(format!("write the blob of {name}"), &repo.root))?
        .detach();
    let previous = match expected {
        Some(old) => {
            let old =
                gix::ObjectId::from_hex(old.as_bytes()).map_err(|err| Error::InvalidName {
                    what: "object id",
                    name: old.to_owned(),
                    problem: err.to_string(),
                })?;
            PreviousValue::MustExistAndMatch(Target::Object(old))
        }
        None => PreviousValue::MustNotExist,
    };
    git.reference(full, blob, previous, message).map_err(|_| Error::RefMoved {
        reference: name.to_owned(),
        expected: expected.unwrap_or("nothing (a new reference)").to_owned(),
    })?;
    Ok(blob.to_string())
}

/// Returns `name` as a full reference name, or why it is not one.
fn reference_name(name: &str) -> Result<gix::refs::FullName, Error> {
    gix::refs::FullName::try_from(name).map_err(|err| Error::InvalidName {
        what: "reference",
        name: name.to_owned(),
        problem: err.to_string(),
    })
}
