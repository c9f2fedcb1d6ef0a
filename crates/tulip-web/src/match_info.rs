//! [`MatchInfo`]: the values a route's `{name}` segments matched (aiohttp's
//! `request.match_info`), indexed by name.

/// The values of a route's `{name}` segments, percent-decoded, in pattern order.
///
/// # Examples
/// ```
/// let mut info = tulip::web::MatchInfo::default();
/// info.insert("name", "tulip");
/// assert_eq!(info["name"], "tulip");
/// assert_eq!(info.get("other"), None);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MatchInfo {
    // Few entries: a list beats hashing (and a map's per-request random seed).
    entries: Vec<(String, String)>,
}

impl MatchInfo {
    /// The value matched by `{name}`, if the route has that segment.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Sets `{name}`'s value (replacing an earlier one).
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<String>) {
        let (name, value) = (name.into(), value.into());
        match self.entries.iter_mut().find(|(k, _)| *k == name) {
            Some(slot) => slot.1 = value,
            None => self.entries.push((name, value)),
        }
    }

    /// The names and values, in pattern order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// How many segments matched.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the route has no `{name}` segments.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// `match_info["name"]`, as in aiohttp.
///
/// # Panics
/// If the route has no `{name}` segment (a programming error, as a `KeyError` in
/// aiohttp); use [`MatchInfo::get`] when unsure.
impl std::ops::Index<&str> for MatchInfo {
    type Output = String;

    fn index(&self, name: &str) -> &String {
        match self.entries.iter().find(|(k, _)| k == name) {
            Some((_, v)) => v,
            None => panic!("no {{{name}}} segment in this route"),
        }
    }
}
