//! Artifacts: files kept beside the log and named in events by path and SHA-256.

use std::{
    fs::File,
    io::{self, Read},
    path::Path,
};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A file kept beside the log, named by its path relative to the goal directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ArtifactRef {
    /// The path relative to the goal directory, with `/` separators.
    pub path: String,
    /// The SHA-256 of the file's bytes, lowercase hex.
    pub sha256: String,
    /// The file's size in bytes.
    pub bytes: u64,
}

impl ArtifactRef {
    /// Returns the reference to the file at `root/relative`, reading it to compute its digest.
    ///
    /// `relative` uses `/` separators; it is stored as given.
    pub fn of_file(root: &Path, relative: &str) -> io::Result<Self> {
        let mut file = File::open(root.join(relative))?;
        let mut hasher = Sha256::new();
        let mut buffer = vec![0u8; 64 * 1024];
        let mut bytes = 0u64;
        loop {
            let n_read = file.read(&mut buffer)?;
            if n_read == 0 {
                break;
            }
            hasher.update(&buffer[..n_read]);
            bytes += n_read as u64;
        }
        Ok(Self { path: relative.to_owned(), sha256: to_hex(&hasher.finalize()), bytes })
    }
}

/// Returns the SHA-256 of `bytes` as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    to_hex(&Sha256::digest(bytes))
}

fn to_hex(digest: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(digest.len() * 2);
    for byte in digest {
        text.push(char::from(HEX[usize::from(byte >> 4)]));
        text.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_match_known_values() -> io::Result<()> {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let dir = tempfile::tempdir()?;
        std::fs::create_dir(dir.path().join("logs"))?;
        std::fs::write(dir.path().join("logs/a.log"), b"abc")?;
        let artifact = ArtifactRef::of_file(dir.path(), "logs/a.log")?;
        assert_eq!(artifact.sha256, sha256_hex(b"abc"));
        assert_eq!((artifact.path.as_str(), artifact.bytes), ("logs/a.log", 3));
        Ok(())
    }
}
