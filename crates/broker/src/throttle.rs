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
    /// Attempts checked but not yet settled: they count against the limit, so that sixty
    /// guesses sent at once for one user cannot all pass the check while the first are hashed.
    in_flight: u32,
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
        self.times.is_empty() && self.locked_until.is_none() && self.in_flight == 0
    }

    /// Seconds until another attempt may be made, if none may now.
    fn refusal(&mut self, now: UnixSeconds, window: i64, limit: u32) -> Option<i64> {
        self.prune(now, window);
        if let Some(until) = self.locked_until {
            return Some(until - now);
        }
        if self.times.len() + self.in_flight as usize >= limit as usize {
            // Full of refusals: until the oldest leaves the window; full of attempts in
            // flight: a moment.
            return Some(
                self.times
                    .front()
                    .map_or(1, |&oldest| oldest + window - now),
            );
        }
        None
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
    fn refusal(&mut self, key: &K, now: UnixSeconds, window: i64, limit: u32) -> Option<i64> {
        let entry = self.entries.get_mut(key)?;
        let refusal = entry.refusal(now, window, limit);
        if entry.is_idle() {
            self.entries.remove(key);
        }
        refusal
    }

    /// Count an attempt in flight for `key`; `false` when the table is full of entries that
    /// must stay (locked, or with attempts in flight), and the key is not followed.
    fn begin(&mut self, key: &K, now: UnixSeconds, window: i64, max: usize) -> bool {
        if !self.entries.contains_key(key)
            && self.entries.len() >= max
            && !self.make_room(now, window)
        {
            return false;
        }
        self.entries.entry(key.clone()).or_default().in_flight += 1;
        true
    }

    fn end(&mut self, key: &K, failed: Option<(UnixSeconds, i64, u32)>) {
        let Some(entry) = self.entries.get_mut(key) else {
            return;
        };
        entry.in_flight = entry.in_flight.saturating_sub(1);
        if let Some((now, window, limit)) = failed {
            entry.prune(now, window);
            entry.times.push_back(now);
            while entry.times.len() > limit as usize {
                entry.times.pop_front();
            }
            if entry.times.len() >= limit as usize {
                entry.locked_until = Some(now + window);
            }
        }
        if entry.is_idle() {
            self.entries.remove(key);
        }
    }

    /// Drop expired entries; if none were, the unlocked entry whose last refusal is oldest. A
    /// locked entry is never dropped to make room: that would let a flood of new names lift a
    /// lock-out. Only runs when the table is full, which takes more refusals within a window
    /// than the password hashing threads can produce.
    fn make_room(&mut self, now: UnixSeconds, window: i64) -> bool {
        let before = self.entries.len();
        self.entries.retain(|_, entry| {
            entry.prune(now, window);
            !entry.is_idle()
        });
        if self.entries.len() < before {
            return true;
        }
        let oldest = self
            .entries
            .iter()
            .filter(|(_, e)| e.locked_until.is_none() && e.in_flight == 0)
            .min_by_key(|(_, e)| e.times.back().copied().unwrap_or(UnixSeconds::MIN))
            .map(|(k, _)| k.clone());
        match oldest {
            Some(key) => {
                self.entries.remove(&key);
                true
            }
            None => false,
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

/// The key of an address: IPv4 addresses one by one, IPv6 ones by their /64 (a single
/// subscriber usually holds a whole /64, and could otherwise try from 2^64 addresses).
fn address_key(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(std::net::Ipv6Addr::from(
                u128::from(v6) & !((1u128 << 64) - 1),
            )),
        },
    }
}

/// An attempt that passed the throttle, counted as in flight until it is settled: as a
/// refusal ([`Permit::refused`]) or, when dropped, as anything else.
#[derive(Debug)]
pub struct Permit<'a> {
    throttle: &'a SignInThrottle,
    user: Option<(String, String)>,
    address: Option<IpAddr>,
    failed_at: Option<UnixSeconds>,
}

impl Permit<'_> {
    /// Count this attempt as a refused sign-in.
    pub fn refused(mut self, now: UnixSeconds) {
        self.failed_at = Some(now);
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let limits = self.throttle.limits;
        let (user_limit, address_limit) =
            (self.throttle.user_limit(), self.throttle.address_limit());
        let mut state = self.throttle.state();
        if let Some(address) = &self.address {
            let failed = self
                .failed_at
                .map(|now| (now, limits.address_window_seconds, address_limit));
            state.addresses.end(address, failed);
        }
        if let Some(user) = &self.user {
            let failed = self
                .failed_at
                .map(|now| (now, limits.user_window_seconds, user_limit));
            state.users.end(user, failed);
        }
    }
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
    /// authenticating) may go ahead; if so, it is counted as in flight until the permit is
    /// settled.
    pub fn check(
        &self,
        profile: &str,
        user: Option<&str>,
        address: Option<IpAddr>,
        now: UnixSeconds,
    ) -> Result<Permit<'_>, Throttled> {
        let limits = self.limits;
        let address = address.map(address_key);
        let user = user.map(|u| (profile.to_owned(), u.to_owned()));
        let mut state = self.state();
        if let Some(address) = &address
            && let Some(retry_after) = state.addresses.refusal(
                address,
                now,
                limits.address_window_seconds,
                self.address_limit(),
            )
        {
            return Err(Throttled::Address { retry_after });
        }
        if let Some(user) = &user
            && let Some(retry_after) =
                state
                    .users
                    .refusal(user, now, limits.user_window_seconds, self.user_limit())
        {
            return Err(Throttled::User { retry_after });
        }
        let address = address.filter(|a| {
            state
                .addresses
                .begin(a, now, limits.address_window_seconds, limits.max_tracked)
        });
        let user = user.filter(|u| {
            state
                .users
                .begin(u, now, limits.user_window_seconds, limits.max_tracked)
        });
        Ok(Permit {
            throttle: self,
            user,
            address,
            failed_at: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HERE: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));

    fn throttle() -> SignInThrottle {
        SignInThrottle::new(ThrottleLimits::default())
    }

    /// One refused attempt of `user` from `address` at `now`, which the throttle let through.
    fn refuse(t: &SignInThrottle, profile: &str, user: &str, address: Option<IpAddr>, now: i64) {
        t.check(profile, Some(user), address, now)
            .expect("let through")
            .refused(now);
    }

    fn allowed(t: &SignInThrottle, user: &str, address: Option<IpAddr>, now: i64) -> bool {
        t.check("app", Some(user), address, now).is_ok()
    }

    #[test]
    fn twenty_failures_lock_that_user_out_for_a_window_and_no_one_else() {
        let t = throttle();
        for i in 0..20 {
            refuse(&t, "app", "alice", None, 1000 + i);
        }
        assert_eq!(
            t.check("app", Some("alice"), None, 1020).unwrap_err(),
            Throttled::User { retry_after: 899 }
        );
        assert!(allowed(&t, "bob", None, 1020));
        // The same name in another profile is another user.
        assert!(t.check("other", Some("alice"), None, 1020).is_ok());
        // A window after the last failure, the user may try again, with a clean slate.
        assert!(!allowed(&t, "alice", None, 1019 + 899));
        refuse(&t, "app", "alice", None, 1019 + 900);
        assert!(allowed(&t, "alice", None, 1019 + 901));
    }

    #[test]
    fn attempts_in_flight_count_against_the_limit() {
        let t = throttle();
        // Twenty guesses sent at once all pass; the twenty-first waits for them.
        let permits: Vec<_> = (0..20)
            .map(|_| t.check("app", Some("alice"), None, 1000).unwrap())
            .collect();
        assert_eq!(
            t.check("app", Some("alice"), None, 1000).unwrap_err(),
            Throttled::User { retry_after: 1 }
        );
        // They all fail: the user is locked out.
        for permit in permits {
            permit.refused(1001);
        }
        assert!(!allowed(&t, "alice", None, 1002));
        // Attempts that end otherwise (dropped permits) leave nothing behind.
        drop(t.check("app", Some("bob"), None, 1000).unwrap());
        let bob = ("app".to_owned(), "bob".to_owned());
        assert!(!t.state().users.entries.contains_key(&bob));
    }

    #[test]
    fn failures_spread_wider_than_the_window_never_lock() {
        let t = throttle();
        for i in 0..100 {
            refuse(&t, "app", "alice", None, 1000 + i * 60);
        }
    }

    #[test]
    fn an_address_is_throttled_after_its_limit_across_users() {
        let t = throttle();
        for i in 0..100 {
            refuse(&t, "app", &format!("user{i}"), HERE, 1000);
        }
        assert_eq!(
            t.check("app", Some("fresh"), HERE, 1010).unwrap_err(),
            Throttled::Address { retry_after: 290 }
        );
        let elsewhere = Some(IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1)));
        assert!(allowed(&t, "fresh", elsewhere, 1010));
        // Sliding: once the refusals leave the window, the address may try again.
        assert!(allowed(&t, "fresh", HERE, 1300));
    }

    #[test]
    fn ipv6_addresses_count_by_their_64_bit_prefix() {
        let t = throttle();
        for i in 0..100u16 {
            let address = std::net::Ipv6Addr::new(0x2001, 0xdb8, 1, 2, i, i, i, i);
            refuse(
                &t,
                "app",
                &format!("user{i}"),
                Some(IpAddr::V6(address)),
                1000,
            );
        }
        let same_64 = IpAddr::V6(std::net::Ipv6Addr::new(0x2001, 0xdb8, 1, 2, 9, 9, 9, 9));
        let other_64 = IpAddr::V6(std::net::Ipv6Addr::new(0x2001, 0xdb8, 1, 3, 0, 0, 0, 1));
        assert!(!allowed(&t, "fresh", Some(same_64), 1001));
        assert!(allowed(&t, "fresh", Some(other_64), 1001));
    }

    #[test]
    fn limits_are_divided_between_nodes() {
        let t = SignInThrottle::new(ThrottleLimits {
            nodes: 3,
            ..ThrottleLimits::default()
        });
        for i in 0..7 {
            refuse(&t, "app", "alice", None, 1000 + i);
        }
        assert!(!allowed(&t, "alice", None, 1010));
    }

    #[test]
    fn memory_stays_bounded() {
        let t = SignInThrottle::new(ThrottleLimits {
            max_tracked: 50,
            ..ThrottleLimits::default()
        });
        for i in 0..1000 {
            refuse(&t, "app", &format!("u{i}"), None, 1000);
        }
        assert!(t.state().users.entries.len() <= 50);
        // A locked-out user is not dropped to make room for new names.
        let t = SignInThrottle::new(ThrottleLimits {
            max_tracked: 50,
            ..ThrottleLimits::default()
        });
        for i in 0..20 {
            refuse(&t, "app", "victim", None, 1000 + i);
        }
        for i in 0..1000 {
            refuse(&t, "app", &format!("u{i}"), None, 1100);
        }
        assert!(!allowed(&t, "victim", None, 1101));
    }
}
