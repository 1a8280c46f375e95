//! The exporter's bounded queue: spans wait here while the collector is
//! down or slow. Beyond the cap the *oldest* are dropped (and counted), so
//! a collector that comes back receives the newest traffic.

use std::collections::VecDeque;

#[derive(Debug)]
pub struct BoundedQueue<T> {
    items: VecDeque<T>,
    cap: usize,
}

impl<T> BoundedQueue<T> {
    pub fn new(cap: usize) -> Self {
        BoundedQueue {
            items: VecDeque::new(),
            cap: cap.max(1),
        }
    }

    /// Add `item`; returns how many old items were dropped to make room.
    pub fn push(&mut self, item: T) -> usize {
        self.items.push_back(item);
        let mut dropped = 0;
        while self.items.len() > self.cap {
            self.items.pop_front();
            dropped += 1;
        }
        dropped
    }

    /// Up to `n` of the oldest items, removed.
    pub fn take(&mut self, n: usize) -> Vec<T> {
        let n = n.min(self.items.len());
        self.items.drain(..n).collect()
    }

    /// Put a batch that failed back at the front, in order, dropping the
    /// oldest beyond the cap; returns how many were dropped.
    pub fn requeue(&mut self, batch: Vec<T>) -> usize {
        for item in batch.into_iter().rev() {
            self.items.push_front(item);
        }
        let mut dropped = 0;
        while self.items.len() > self.cap {
            self.items.pop_front();
            dropped += 1;
        }
        dropped
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_are_dropped_beyond_the_cap() {
        let mut q = BoundedQueue::new(3);
        assert_eq!((0..5).map(|i| q.push(i)).sum::<usize>(), 2);
        assert_eq!(q.take(10), vec![2, 3, 4]);
    }

    #[test]
    fn a_failed_batch_goes_back_first_and_newer_items_win_the_room() {
        let mut q = BoundedQueue::new(4);
        for i in 0..4 {
            q.push(i);
        }
        let batch = q.take(2);
        q.push(4);
        q.push(5);
        assert_eq!(q.requeue(batch), 2, "two old ones make room");
        assert_eq!(q.take(10), vec![2, 3, 4, 5]);
    }
}
