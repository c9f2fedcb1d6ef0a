//! `FirstRest<E>`: a list in registration order that keeps its first entry inline
//! and the others in a vector boxed on first use.
//!
//! A task's done-callbacks and a promise's awaiters are almost always none or one;
//! a `Vec` would allocate for that one (and take three words where this takes one
//! more than the entry). Only a second entry pays for the box.

/// Entries in the order they were pushed; the first inline.
#[derive(Debug)]
pub(crate) struct FirstRest<E> {
    first: Option<E>,
    // One word instead of a `Vec`'s three: the allocation is paid only by a list
    // with a second entry.
    #[allow(clippy::box_collection)]
    rest: Option<Box<Vec<E>>>,
}

impl<E> Default for FirstRest<E> {
    fn default() -> Self {
        FirstRest {
            first: None,
            rest: None,
        }
    }
}

impl<E> FirstRest<E> {
    /// Appends `entry` after every entry already there.
    pub(crate) fn push(&mut self, entry: E) {
        match (&self.first, &mut self.rest) {
            (None, None) => self.first = Some(entry),
            (_, Some(rest)) => rest.push(entry),
            (Some(_), rest @ None) => *rest = Some(Box::new(vec![entry])),
        }
    }

    pub(crate) fn len(&self) -> usize {
        usize::from(self.first.is_some()) + self.rest.as_ref().map_or(0, |r| r.len())
    }

    /// The entries in order, without taking them.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &E> {
        self.first
            .iter()
            .chain(self.rest.iter().flat_map(|r| r.iter()))
    }

    /// The entries in order, to change in place.
    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = &mut E> {
        self.first
            .iter_mut()
            .chain(self.rest.iter_mut().flat_map(|r| r.iter_mut()))
    }

    /// The entries in order, leaving the list empty.
    pub(crate) fn take(&mut self) -> impl Iterator<Item = E> {
        let first = self.first.take();
        let rest = self.rest.take().map(|r| *r).unwrap_or_default();
        first.into_iter().chain(rest)
    }

    /// Keeps the entries `keep` accepts, in their order; returns how many went.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&E) -> bool) -> usize {
        let before = self.len();
        let kept: Vec<E> = self.take().filter(|e| keep(e)).collect();
        for e in kept {
            self.push(e);
        }
        before - self.len()
    }
}

#[cfg(test)]
mod tests {
    use super::FirstRest;

    #[test]
    fn entries_past_the_inline_one_keep_their_order() {
        let mut list = FirstRest::default();
        assert_eq!(list.len(), 0);
        for id in [3, 5, 8, 13] {
            list.push(id);
        }
        assert_eq!(list.len(), 4);
        assert_eq!(list.iter().copied().collect::<Vec<u32>>(), [3, 5, 8, 13]);
        assert_eq!(list.take().collect::<Vec<_>>(), [3, 5, 8, 13]);
        assert_eq!(list.len(), 0);
        list.push(21);
        assert_eq!(list.take().collect::<Vec<_>>(), [21]);
    }

    #[test]
    fn retain_keeps_the_order_of_what_is_left() {
        let mut list = FirstRest::default();
        for id in [1, 2, 3, 4] {
            list.push(id);
        }
        // Removing the inline entry moves the next one into its place.
        assert_eq!(list.retain(|&id| id != 1), 1);
        assert_eq!(list.retain(|&id| id != 3), 1);
        assert_eq!(list.retain(|&id| id != 9), 0);
        assert_eq!(list.iter().copied().collect::<Vec<u32>>(), [2, 4]);
        list.push(5);
        assert_eq!(list.take().collect::<Vec<_>>(), [2, 4, 5]);
    }
}
