//! RFC 6962 / RFC 9162 Merkle tree hashing and inclusion proof
//! verification, as transparency logs (Rekor, CT) use them.

use sha2::{Digest, Sha256};

/// `SHA-256(0x00 || leaf)`.
pub fn leaf_hash(leaf: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(leaf);
    h.finalize().into()
}

/// `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &[u8], right: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// Why an inclusion proof failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InclusionError {
    #[error("leaf index {index} is not below the tree size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("the proof has {got} hashes, a proof for leaf {index} of {size} needs {want}")]
    WrongLength {
        index: u64,
        size: u64,
        got: usize,
        want: usize,
    },
    #[error("a proof hash is {0} bytes, not 32")]
    HashLength(usize),
    #[error("the proof leads to root {computed}, not the signed root {expected}")]
    RootMismatch { computed: String, expected: String },
}

/// Check that `leaf` (already leaf-hashed) is at `index` in the tree of
/// `size` leaves whose root is `root` (RFC 9162, section 2.1.3.2).
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &[u8; 32],
    proof: &[Vec<u8>],
    root: &[u8],
) -> Result<(), InclusionError> {
    if index >= size {
        return Err(InclusionError::IndexOutOfRange { index, size });
    }
    let want = proof_len(index, size);
    if proof.len() != want {
        return Err(InclusionError::WrongLength {
            index,
            size,
            got: proof.len(),
            want,
        });
    }
    let mut fn_ = index;
    let mut sn = size - 1;
    let mut r = *leaf;
    for p in proof {
        if p.len() != 32 {
            return Err(InclusionError::HashLength(p.len()));
        }
        if sn == 0 {
            // Cannot happen with the length checked above.
            return Err(InclusionError::WrongLength {
                index,
                size,
                got: proof.len(),
                want,
            });
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 || r.as_slice() != root {
        return Err(InclusionError::RootMismatch {
            computed: hex::encode(r),
            expected: hex::encode(root),
        });
    }
    Ok(())
}

/// The number of hashes in an inclusion proof for `index` in a tree of
/// `size` leaves: the path length with the levels where the node has no
/// sibling (the right edge of an unbalanced tree) left out.
fn proof_len(index: u64, size: u64) -> usize {
    // Levels below the split of index and the last leaf have a sibling
    // each; above it, only where the last leaf's path turns left.
    let last = size - 1;
    let inner = (64 - (index ^ last).leading_zeros()) as usize;
    let border = (index >> inner).count_ones() as usize;
    inner + border
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Merkle tree hash of `leaves` (RFC 6962, section 2.1), computed the
    /// slow, obviously correct way.
    fn mth(leaves: &[Vec<u8>]) -> [u8; 32] {
        match leaves.len() {
            0 => Sha256::digest([]).into(),
            1 => leaf_hash(&leaves[0]),
            n => {
                let k = n.next_power_of_two() / 2;
                node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    /// The audit path (RFC 6962, section 2.1.1).
    fn path(m: usize, leaves: &[Vec<u8>]) -> Vec<Vec<u8>> {
        let n = leaves.len();
        if n <= 1 {
            return Vec::new();
        }
        let k = n.next_power_of_two() / 2;
        if m < k {
            let mut p = path(m, &leaves[..k]);
            p.push(mth(&leaves[k..]).to_vec());
            p
        } else {
            let mut p = path(m - k, &leaves[k..]);
            p.push(mth(&leaves[..k]).to_vec());
            p
        }
    }

    #[test]
    fn every_leaf_of_every_small_tree_verifies() {
        for n in 1..=33usize {
            let leaves: Vec<Vec<u8>> = (0..n).map(|i| format!("leaf {i}").into_bytes()).collect();
            let root = mth(&leaves);
            for m in 0..n {
                let p = path(m, &leaves);
                let lh = leaf_hash(&leaves[m]);
                verify_inclusion(m as u64, n as u64, &lh, &p, &root)
                    .unwrap_or_else(|e| panic!("leaf {m} of {n}: {e}"));
                // A different leaf, index, size or path fails.
                let other = leaf_hash(b"other");
                assert!(verify_inclusion(m as u64, n as u64, &other, &p, &root).is_err());
                if n > 1 {
                    let wrong = (m + 1) % n;
                    assert!(
                        verify_inclusion(wrong as u64, n as u64, &lh, &p, &root).is_err(),
                        "leaf {m} of {n} verified at {wrong}"
                    );
                }
                // (The size alone is not bound by every proof: the signed
                // checkpoint binds it to the root.)
                let mut longer = leaves.clone();
                longer.push(b"later".to_vec());
                assert!(verify_inclusion(m as u64, n as u64, &lh, &p, &mth(&longer)).is_err());
                if let Some(first) = p.first() {
                    let mut bad = p.clone();
                    bad[0] = leaf_hash(first).to_vec();
                    assert!(verify_inclusion(m as u64, n as u64, &lh, &bad, &root).is_err());
                }
            }
        }
    }

    #[test]
    fn out_of_range_and_bad_lengths() {
        let lh = leaf_hash(b"x");
        assert!(matches!(
            verify_inclusion(1, 1, &lh, &[], &lh),
            Err(InclusionError::IndexOutOfRange { .. })
        ));
        assert!(matches!(
            verify_inclusion(0, 2, &lh, &[vec![0; 31]], &lh),
            Err(InclusionError::HashLength(31))
        ));
        assert!(verify_inclusion(0, 1, &lh, &[], &lh).is_ok());
        assert!(matches!(
            verify_inclusion(0, 1, &lh, &[lh.to_vec()], &lh),
            Err(InclusionError::WrongLength { .. })
        ));
    }
}
