//! Reproducible pseudo-random bytes for the tests: xorshift64, seeded by the caller.

/// `len` bytes from the generator whose state is `state`, which moves on.
pub(crate) fn random_bytes(state: &mut u64, len: usize) -> Vec<u8> {
    (0..len)
        .map(|_| {
            *state ^= *state << 13;
            *state ^= *state >> 7;
            *state ^= *state << 17;
            state.to_le_bytes()[0]
        })
        .collect()
}
