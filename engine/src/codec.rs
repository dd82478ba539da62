//! A tiny length-prefixed binary codec for the engine's persisted records (action results,
//! stat cache, build state). Decoding never panics: any malformed input is `None`.

use crate::digest::Digest;

/// Appends values to a byte buffer.
#[derive(Default)]
pub struct Writer {
    pub buf: Vec<u8>,
}

impl Writer {
    /// A writer whose buffer holds `n` bytes before it grows.
    pub fn with_capacity(n: usize) -> Writer {
        Writer {
            buf: Vec::with_capacity(n),
        }
    }
    pub fn new() -> Writer {
        Writer::default()
    }
    pub fn u64(&mut self, v: u64) -> &mut Writer {
        self.buf.extend_from_slice(&v.to_le_bytes());
        self
    }
    pub fn i64(&mut self, v: i64) -> &mut Writer {
        self.buf.extend_from_slice(&v.to_le_bytes());
        self
    }
    pub fn bytes(&mut self, v: &[u8]) -> &mut Writer {
        self.u64(v.len() as u64);
        self.buf.extend_from_slice(v);
        self
    }
    pub fn str(&mut self, v: &str) -> &mut Writer {
        self.bytes(v.as_bytes())
    }
    pub fn digest<K>(&mut self, d: &Digest<K>) -> &mut Writer {
        self.buf.extend_from_slice(d.as_bytes());
        self
    }
    /// Appends bytes already in this encoding (an entry copied from another record).
    pub fn raw(&mut self, v: &[u8]) -> &mut Writer {
        self.buf.extend_from_slice(v);
        self
    }
    pub fn finish(self) -> Vec<u8> {
        self.buf
    }
}

/// Reads values back; every getter returns `None` past the end or on bad data.
pub struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Reader<'a> {
        Reader { data }
    }
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.data.len() < n {
            return None;
        }
        let (a, b) = self.data.split_at(n);
        self.data = b;
        Some(a)
    }
    pub fn u64(&mut self) -> Option<u64> {
        let b = self.take(8)?;
        Some(u64::from_le_bytes(b.try_into().ok()?))
    }
    pub fn i64(&mut self) -> Option<i64> {
        let b = self.take(8)?;
        Some(i64::from_le_bytes(b.try_into().ok()?))
    }
    /// A length that must fit in the remaining data (guards huge allocations).
    pub fn len(&mut self) -> Option<usize> {
        let n = self.u64()?;
        if n > self.data.len() as u64 {
            return None;
        }
        Some(n as usize)
    }
    /// A count of items each at least `min_item` bytes long.
    pub fn count(&mut self, min_item: usize) -> Option<usize> {
        let n = self.u64()?;
        if n.checked_mul(min_item.max(1) as u64)? > self.data.len() as u64 {
            return None;
        }
        Some(n as usize)
    }
    pub fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = self.len()?;
        self.take(n)
    }
    pub fn str(&mut self) -> Option<&'a str> {
        std::str::from_utf8(self.bytes()?).ok()
    }
    pub fn digest<K>(&mut self) -> Option<Digest<K>> {
        let b = self.take(32)?;
        Some(Digest::from_bytes(b.try_into().ok()?))
    }
    /// Skips `n` bytes, returning them.
    pub fn raw(&mut self, n: usize) -> Option<&'a [u8]> {
        self.take(n)
    }
    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.data.len()
    }
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::Blob;

    #[test]
    fn round_trip_and_truncation() {
        let mut w = Writer::new();
        w.u64(7)
            .str("héllo")
            .digest(&Digest::<Blob>::of(b"x"))
            .i64(-3);
        let buf = w.finish();
        let mut r = Reader::new(&buf);
        assert_eq!(r.u64(), Some(7));
        assert_eq!(r.str(), Some("héllo"));
        assert_eq!(r.digest::<Blob>(), Some(Digest::of(b"x")));
        assert_eq!(r.i64(), Some(-3));
        assert!(r.is_empty());
        for cut in 0..buf.len() {
            let mut r = Reader::new(&buf[..cut]);
            let ok = r.u64().is_some()
                && r.str().is_some()
                && r.digest::<Blob>().is_some()
                && r.i64().is_some();
            assert!(!ok);
        }
        let mut r = Reader::new(&[255, 255, 255, 255, 255, 255, 255, 255]);
        assert_eq!(r.bytes(), None);
    }
}
