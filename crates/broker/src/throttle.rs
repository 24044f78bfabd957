//! Sign-in throttling: sliding windows per user and per source address, kept in this node's
//! memory.
//!
//! Two limits, both counting refused sign-ins (wrong password, unknown user, rejected token):
//! - per user: `user_failures` refusals within `user_window` lock the user out for one window
//!   from the last of them, while everyone else signs in as usual;
//! - per source address: `address_failures` refusals within `address_window` refuse every
//!   further attempt from that address until the oldest leaves the window (password spraying
//!   tries many users from one place).
//!
//! Several nodes: the counters are per node, and each node enforces the configured limits
//! divided by `nodes` (rounded up), so that an attacker spreading attempts over every node gets
//! no more tries than against one. A client that sticks to one node gets fewer.
//!
//! Memory is bounded: at most `max_tracked` users and as many addresses are followed; past that,
//! expired entries are dropped, and if none are, the oldest entry goes.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;

use tegata_core::UnixSeconds;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleLimits {
    pub user_failures: u32,
    pub user_window_seconds: i64,
    pub address_failures: u32,
    pub address_window_seconds: i64,
    /// How many nodes share the load: each enforces the limits divided by it.
    pub nodes: u32,
    pub max_tracked: usize,
}

impl Default for ThrottleLimits {
    fn default() -> Self {
        Self {
            user_failures: 20,
            user_window_seconds: 900,
            address_failures: 100,
            address_window_seconds: 300,
            nodes: 1,
            max_tracked: 100_000,
        }
    }
}

impl ThrottleLimits {
    fn per_node(limit: u32, nodes: u32) -> u32 {
        limit.div_ceil(nodes.max(1)).max(1)
    }
}

/// Why an attempt is refused before its credentials are looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Throttled {
    User { retry_after: i64 },
    Address { retry_after: i64 },
}

impl Throttled {
    pub fn retry_after(self) -> i64 {
        match self {
            Self::User { retry_after } | Self::Address { retry_after } => retry_after.max(1),
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::User { .. } => "user_locked_out",
            Self::Address { .. } => "address_throttled",
        }
    }
}

#[derive(Debug, Default)]
struct Failures {
    /// Times of recent refusals, oldest first, at most the limit.
    times: VecDeque<UnixSeconds>,
    /// Set when the limit is reached: refused until then.
    locked_until: Option<UnixSeconds>,
}

impl Failures {
    fn prune(&mut self, now: UnixSeconds, window: i64) {
        while self.times.front().is_some_and(|&t| t <= now - window) {
            self.times.pop_front();
        }
        if self.locked_until.is_some_and(|until| until <= now) {
            self.locked_until = None;
            self.times.clear();
        }
    }

    fn is_idle(&self) -> bool {
        self.times.is_empty() && self.locked_until.is_none()
    }
}

#[derive(Debug)]
struct Windows<K> {
    entries: HashMap<K, Failures>,
}

impl<K> Default for Windows<K> {
    fn default() -> Self {
        Self {
            entries: HashMap::new(),
        }
    }
}

impl<K: std::hash::Hash + Eq + Clone> Windows<K> {
    fn check(&mut self, key: &K, now: UnixSeconds, window: i64, limit: u32) -> Option<i64> {
        let entry = self.entries.get_mut(key)?;
        entry.prune(now, window);
        if let Some(until) = entry.locked_until {
            return Some(until - now);
        }
        if entry.times.len() >= limit as usize {
            return entry.times.front().map(|&oldest| oldest + window - now);
        }
        if entry.is_idle() {
            self.entries.remove(key);
        }
        None
    }

    fn record(
        &mut self,
        key: K,
        now: UnixSeconds,
        window: i64,
        limit: u32,
        lock: bool,
        max: usize,
    ) {
        if !self.entries.contains_key(&key) && self.entries.len() >= max {
            self.make_room(now, window);
        }
        let entry = self.entries.entry(key).or_default();
        entry.prune(now, window);
        entry.times.push_back(now);
        while entry.times.len() > limit as usize {
            entry.times.pop_front();
        }
        if lock && entry.times.len() >= limit as usize {
            entry.locked_until = Some(now + window);
        }
    }

    fn make_room(&mut self, now: UnixSeconds, window: i64) {
        self.entries.retain(|_, entry| {
            entry.prune(now, window);
            !entry.is_idle()
        });
        if self.entries.is_empty() {
            return;
        }
        // Still full of live entries: drop the one whose last refusal is oldest.
        let oldest = self
            .entries
            .iter()
            .min_by_key(|(_, e)| e.times.back().copied().unwrap_or(UnixSeconds::MIN))
            .map(|(k, _)| k.clone());
        if let Some(key) = oldest {
            self.entries.remove(&key);
        }
    }
}

#[derive(Debug, Default)]
struct State {
    users: Windows<(String, String)>,
    addresses: Windows<IpAddr>,
}

/// The sign-in throttle of one node.
#[derive(Debug)]
pub struct SignInThrottle {
    limits: ThrottleLimits,
    state: Mutex<State>,
}

impl SignInThrottle {
    pub fn new(limits: ThrottleLimits) -> Self {
        Self {
            limits,
            state: Mutex::new(State::default()),
        }
    }

    pub fn limits(&self) -> ThrottleLimits {
        self.limits
    }

    fn user_limit(&self) -> u32 {
        ThrottleLimits::per_node(self.limits.user_failures, self.limits.nodes)
    }

    fn address_limit(&self) -> u32 {
        ThrottleLimits::per_node(self.limits.address_failures, self.limits.nodes)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether an attempt from `address` (for `user` of `profile`, when the user is named before
    /// authenticating) may go ahead.
    pub fn check(
        &self,
        profile: &str,
        user: Option<&str>,
        address: Option<IpAddr>,
        now: UnixSeconds,
    ) -> Result<(), Throttled> {
        let limits = self.limits;
        let mut state = self.state();
        if let Some(address) = address
            && let Some(retry_after) = state.addresses.check(
                &address,
                now,
                limits.address_window_seconds,
                self.address_limit(),
            )
        {
            return Err(Throttled::Address { retry_after });
        }
        if let Some(user) = user
            && let Some(retry_after) = state.users.check(
                &(profile.to_owned(), user.to_owned()),
                now,
                limits.user_window_seconds,
                self.user_limit(),
            )
        {
            return Err(Throttled::User { retry_after });
        }
        Ok(())
    }

    /// Count a refused sign-in.
    pub fn record_failure(
        &self,
        profile: &str,
        user: Option<&str>,
        address: Option<IpAddr>,
        now: UnixSeconds,
    ) {
        let limits = self.limits;
        let (user_limit, address_limit) = (self.user_limit(), self.address_limit());
        let mut state = self.state();
        if let Some(address) = address {
            state.addresses.record(
                address,
                now,
                limits.address_window_seconds,
                address_limit,
                false,
                limits.max_tracked,
            );
        }
        if let Some(user) = user {
            state.users.record(
                (profile.to_owned(), user.to_owned()),
                now,
                limits.user_window_seconds,
                user_limit,
                true,
                limits.max_tracked,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HERE: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));

    fn throttle() -> SignInThrottle {
        SignInThrottle::new(ThrottleLimits::default())
    }

    #[test]
    fn twenty_failures_lock_that_user_out_for_a_window_and_no_one_else() {
        let t = throttle();
        for i in 0..20 {
            assert_eq!(t.check("app", Some("alice"), None, 1000 + i), Ok(()));
            t.record_failure("app", Some("alice"), None, 1000 + i);
        }
        assert_eq!(
            t.check("app", Some("alice"), None, 1020),
            Err(Throttled::User { retry_after: 899 })
        );
        assert_eq!(t.check("app", Some("bob"), None, 1020), Ok(()));
        // The same name in another profile is another user.
        assert_eq!(t.check("other", Some("alice"), None, 1020), Ok(()));
        // A window after the last failure, the user may try again, with a clean slate.
        assert!(t.check("app", Some("alice"), None, 1019 + 899).is_err());
        assert_eq!(t.check("app", Some("alice"), None, 1019 + 900), Ok(()));
        t.record_failure("app", Some("alice"), None, 1019 + 900);
        assert_eq!(t.check("app", Some("alice"), None, 1019 + 901), Ok(()));
    }

    #[test]
    fn failures_spread_wider_than_the_window_never_lock() {
        let t = throttle();
        for i in 0..100 {
            let now = 1000 + i * 60;
            assert_eq!(t.check("app", Some("alice"), None, now), Ok(()), "at {i}");
            t.record_failure("app", Some("alice"), None, now);
        }
    }

    #[test]
    fn an_address_is_throttled_after_its_limit_across_users() {
        let t = throttle();
        for i in 0..100 {
            let user = format!("user{i}");
            assert_eq!(t.check("app", Some(&user), HERE, 1000), Ok(()));
            t.record_failure("app", Some(&user), HERE, 1000);
        }
        assert_eq!(
            t.check("app", Some("fresh"), HERE, 1010),
            Err(Throttled::Address { retry_after: 290 })
        );
        let elsewhere = Some(IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(t.check("app", Some("fresh"), elsewhere, 1010), Ok(()));
        // Sliding: once the refusals leave the window, the address may try again.
        assert_eq!(t.check("app", Some("fresh"), HERE, 1300), Ok(()));
    }

    #[test]
    fn limits_are_divided_between_nodes() {
        let t = SignInThrottle::new(ThrottleLimits {
            nodes: 3,
            ..ThrottleLimits::default()
        });
        for i in 0..7 {
            t.record_failure("app", Some("alice"), None, 1000 + i);
        }
        assert!(t.check("app", Some("alice"), None, 1010).is_err());
    }

    #[test]
    fn memory_stays_bounded() {
        let t = SignInThrottle::new(ThrottleLimits {
            max_tracked: 50,
            ..ThrottleLimits::default()
        });
        for i in 0..1000 {
            t.record_failure("app", Some(&format!("u{i}")), None, 1000);
        }
        assert!(t.state().users.entries.len() <= 50);
    }
}
