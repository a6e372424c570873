//! The bundle image: a compiled rule pack as bytes with a header, as `pchat-guard compile` writes
//! it into a module's memory and the module reads it back (see `docs/abi.md`).
//!
//! Layout, little-endian: magic `PCGI` (4 bytes), image format version (u32), payload length
//! (u32), FNV-1a 64 of the payload (u64), the payload's SHA-256 as 64 hex digits, the payload
//! (the bundle as JSON). The module checks magic, version, length and hash before trusting it.

/// The image's magic bytes.
pub const MAGIC: [u8; 4] = *b"PCGI";
/// Version of the image format.
pub const IMAGE_VERSION: u32 = 1;
/// Bytes before the payload.
pub const HEADER_LEN: usize = 4 + 4 + 4 + 8 + 64;

/// The magic of the locator static, `PCGL` read as a little-endian u32.
pub const LOCATOR_MAGIC: u32 = u32::from_le_bytes(*b"PCGL");

/// FNV-1a, 64-bit.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Builds an image from a bundle's JSON and its SHA-256 (hex).
pub fn encode(payload: &[u8], sha256_hex: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&IMAGE_VERSION.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&fnv1a64(payload).to_le_bytes());
    let mut digest = sha256_hex.as_bytes().to_vec();
    digest.resize(64, b'0');
    out.extend_from_slice(&digest);
    out.extend_from_slice(payload);
    out
}

/// Checks an image and returns its payload and digest.
pub fn decode(image: &[u8]) -> Result<(&[u8], &str), String> {
    let field =
        |range: std::ops::Range<usize>| image.get(range).ok_or("the rule pack image is truncated");
    let u32_at = |at: usize| -> Result<u32, String> {
        let bytes: [u8; 4] = field(at..at + 4)?
            .try_into()
            .map_err(|_| "bad image".to_string())?;
        Ok(u32::from_le_bytes(bytes))
    };
    if field(0..4)? != MAGIC {
        return Err("the rule pack image has no PCGI magic".to_string());
    }
    let version = u32_at(4)?;
    if version != IMAGE_VERSION {
        return Err(format!(
            "the rule pack image has format version {version}; this module reads {IMAGE_VERSION}"
        ));
    }
    let len = u32_at(8)? as usize;
    let hash_bytes: [u8; 8] = field(12..20)?
        .try_into()
        .map_err(|_| "bad image".to_string())?;
    let digest = std::str::from_utf8(field(20..HEADER_LEN)?)
        .map_err(|_| "the rule pack digest is not text".to_string())?;
    let payload = field(HEADER_LEN..HEADER_LEN + len)?;
    if fnv1a64(payload) != u64::from_le_bytes(hash_bytes) {
        return Err("the rule pack image is damaged (hash mismatch)".to_string());
    }
    Ok((payload, digest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_round_trip_and_damage_is_detected() {
        let image = encode(b"{\"rules\":[]}", &"ab".repeat(32));
        assert_eq!(
            decode(&image).map(|(p, d)| (p.to_vec(), d.to_string())),
            Ok((b"{\"rules\":[]}".to_vec(), "ab".repeat(32)))
        );
        let mut damaged = image.clone();
        if let Some(last) = damaged.last_mut() {
            *last ^= 1;
        }
        assert!(decode(&damaged).is_err());
        assert!(decode(&image[..HEADER_LEN]).is_err());
        assert!(decode(b"nope").is_err());
    }
}
