//! The draw itself: from the record's inputs to the experts drawn, in order, replacements
//! included. Pure and deterministic, so that anyone holding the record can run it again
//! (`tenderhall draw verify`, the supervisor's page) and get the same experts.
//!
//! **Inputs** ([`Inputs`]): the request (groups of a specialty, a site and a count, and the
//! number of reserves per group), the eligible experts in canonical order (by their public id),
//! the platform's commitment (SHA-256 of its secret) and the supervisor's contribution.
//!
//! **Seed**: `SHA-256("tenderhall.draw.v1" ‖ 0x00 ‖ secret ‖ contribution ‖ request digest ‖
//! eligible digest)`, every part 32 bytes, where each digest is the SHA-256 of the canonical JSON
//! of the request or the eligible list ([`Inputs::request_digest`], [`Inputs::eligible_digest`]).
//! Neither the platform (committed before the request, before the contribution) nor the
//! supervisor (who sees only the commitment) can choose the outcome.
//!
//! **Order of a group**: the group's candidates (eligible experts whose specialty the group's
//! covers, at the group's site), in canonical order, shuffled by Fisher–Yates from the end of the
//! list forward, with the random numbers of the group's stream: block `j` of group `g` is
//! `SHA-256(seed ‖ "group" ‖ g as u32 BE ‖ j as u64 BE)`, read as big-endian `u64`s; a number
//! below `n` is taken by rejection (a value at or above the largest multiple of `n` is skipped),
//! so every candidate is equally likely. Position `k` of the order swaps with `k + uniform(len −
//! k)`; the shuffle is computed only as far as it is read, which gives the same prefix as the
//! whole shuffle.
//!
//! **Picks**: first every group's members, group by group, each the next expert of its order
//! not already drawn (an expert who fits two groups serves the first); then every group's
//! reserves the same way. A replacement for an expert of group `g` (who declined, did not answer
//! in time, or declared a conflict) is the first reserve of `g` not yet called, or, when they
//! are used up, the next expert of `g`'s order not yet drawn. The record lists the replacements
//! asked for in order, so the whole sequence is reproduced.

use ring::digest::{Context, SHA256, digest};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use uuid::Uuid;

/// The version of the algorithm and of the record's format.
pub const VERSION: u32 = 1;

/// Domain separation of the seed.
const SEED_TAG: &[u8] = b"tenderhall.draw.v1";

/// One group of the request: so many experts of a specialty at a site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Group {
    /// The specialty code asked for (`A02` takes experts of `A02` and of its sub-codes).
    pub specialty: String,
    /// The site (its public id) the experts evaluate from.
    pub site: Uuid,
    /// How many members the group gives the committee.
    pub count: u32,
}

/// What the draw is asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Request {
    /// The groups, in the order they are drawn.
    pub groups: Vec<Group>,
    /// Reserves drawn for each group, ranked, called in order when a member leaves.
    pub reserve: u32,
}

/// An eligible expert as the draw sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Candidate {
    /// The expert's public id.
    pub expert: Uuid,
    /// The expert's specialty codes.
    pub specialties: Vec<String>,
    /// The expert's site (public id).
    pub site: Uuid,
}

/// Everything the draw is computed from, except the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inputs {
    /// The request.
    pub request: Request,
    /// The eligible experts, in canonical order (ascending public id).
    pub eligible: Vec<Candidate>,
    /// SHA-256 of the platform's secret, hex.
    pub commitment: String,
    /// The supervisor's contribution: 32 bytes, hex.
    pub contribution: String,
}

/// What a pick is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A member of the committee from the start.
    Member,
    /// A reserve, called when a member of its group leaves.
    Reserve,
    /// Drawn further along the group's order after its reserves were used up.
    Replacement,
}

impl Role {
    /// Its stable name (as in JSON).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Reserve => "reserve",
            Role::Replacement => "replacement",
        }
    }
}

/// One expert drawn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Pick {
    /// 1, 2, ...: the order in which the draw produced it.
    pub seq: u32,
    /// The group (index into the request's groups).
    pub group: u32,
    /// The expert's public id.
    pub expert: Uuid,
    /// How it was drawn.
    pub role: Role,
}

/// Why the draw cannot go on, or why a record does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DrawError {
    /// A group has fewer candidates left than it needs.
    #[error("group {group} has no further candidate (it needed {needed})")]
    Exhausted {
        /// The group.
        group: u32,
        /// How many it still needed.
        needed: u32,
    },
    /// A value of the record is not what the format says.
    #[error("the record is malformed: {0}")]
    Malformed(String),
    /// The revealed secret is not the committed one.
    #[error("the secret does not match the commitment")]
    SecretMismatch,
    /// A digest in the record is not the digest of the record's data.
    #[error("the {0} digest does not match the record")]
    DigestMismatch(&'static str),
    /// The recorded committee is not the one the picks and calls give.
    #[error("the recorded committee is not the one the draw and its calls give")]
    CommitteeMismatch,
    /// The recorded picks differ from what the draw gives.
    #[error("pick {seq} is recorded as {recorded}, the draw gives {computed}")]
    PickMismatch {
        /// The first differing position.
        seq: u32,
        /// What the record says.
        recorded: String,
        /// What the draw gives.
        computed: String,
    },
}

impl Inputs {
    /// SHA-256 of the request's canonical JSON.
    pub fn request_digest(&self) -> [u8; 32] {
        sha256(&serde_json::to_vec(&self.request).unwrap_or_default())
    }

    /// SHA-256 of the eligible list's canonical JSON.
    pub fn eligible_digest(&self) -> [u8; 32] {
        eligible_digest(&self.eligible)
    }

    /// The seed from the secret and the inputs.
    pub fn seed(&self, secret: &[u8; 32]) -> Result<[u8; 32], DrawError> {
        let contribution = hex32(&self.contribution, "contribution")?;
        let mut ctx = Context::new(&SHA256);
        ctx.update(SEED_TAG);
        ctx.update(&[0]);
        ctx.update(secret);
        ctx.update(&contribution);
        ctx.update(&self.request_digest());
        ctx.update(&self.eligible_digest());
        Ok(to32(ctx.finish().as_ref()))
    }
}

/// SHA-256 of an eligible list's canonical JSON.
pub fn eligible_digest(eligible: &[Candidate]) -> [u8; 32] {
    sha256(&serde_json::to_vec(eligible).unwrap_or_default())
}

/// The commitment to a secret: its SHA-256, hex.
pub fn commitment(secret: &[u8; 32]) -> String {
    hex::encode(sha256(secret))
}

/// Whether the code `asked` takes an expert of specialty `held`: the same code or one of its
/// sub-codes (`A02` takes `A0201`).
pub fn covers(asked: &str, held: &str) -> bool {
    !asked.is_empty() && held.starts_with(asked)
}

/// A draw in progress: the groups' orders, read as far as needed, and the picks so far.
pub struct Draw<'a> {
    inputs: &'a Inputs,
    orders: Vec<GroupOrder>,
    taken: HashSet<Uuid>,
    picks: Vec<Pick>,
    /// Per group, how many of its reserves have been called.
    called: Vec<u32>,
}

impl<'a> Draw<'a> {
    /// Starts the draw from the inputs and the secret, and draws every group's members and
    /// reserves. A group without enough candidates is [`DrawError::Exhausted`].
    pub fn start(inputs: &'a Inputs, secret: &[u8; 32]) -> Result<Self, DrawError> {
        if commitment(secret) != inputs.commitment.to_ascii_lowercase() {
            return Err(DrawError::SecretMismatch);
        }
        let seed = inputs.seed(secret)?;
        let orders = inputs
            .request
            .groups
            .iter()
            .enumerate()
            .map(|(g, group)| {
                let members: Vec<usize> = inputs
                    .eligible
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| c.site == group.site && c.specialties.iter().any(|s| covers(&group.specialty, s)))
                    .map(|(i, _)| i)
                    .collect();
                GroupOrder::new(seed, g as u32, members)
            })
            .collect();
        let mut draw = Draw {
            inputs,
            orders,
            taken: HashSet::new(),
            picks: Vec::new(),
            called: vec![0; inputs.request.groups.len()],
        };
        for (g, group) in inputs.request.groups.iter().enumerate() {
            for _ in 0..group.count {
                draw.take(g, Role::Member)?;
            }
        }
        for g in 0..inputs.request.groups.len() {
            for _ in 0..inputs.request.reserve {
                // Reserves are wanted, not needed: a group may have fewer.
                if draw.take(g, Role::Reserve).is_err() {
                    break;
                }
            }
        }
        Ok(draw)
    }

    /// The picks so far, in order.
    pub fn picks(&self) -> &[Pick] {
        &self.picks
    }

    /// The replacement for a member of `group` who left: the group's first reserve not yet
    /// called, or the next expert of its order. Returns the expert called in.
    pub fn replace(&mut self, group: u32) -> Result<Pick, DrawError> {
        let g = group as usize;
        if g >= self.orders.len() {
            return Err(DrawError::Malformed(format!("there is no group {group}")));
        }
        let reserves: Vec<&Pick> = self.picks.iter().filter(|p| p.group == group && p.role == Role::Reserve).collect();
        if let Some(p) = reserves.get(self.called[g] as usize) {
            let p = (*p).clone();
            self.called[g] += 1;
            return Ok(p);
        }
        self.take(g, Role::Replacement)
    }

    /// Draws the next expert of group `g`'s order who is not drawn yet.
    fn take(&mut self, g: usize, role: Role) -> Result<Pick, DrawError> {
        loop {
            let Some(i) = self.orders[g].next() else {
                return Err(DrawError::Exhausted { group: g as u32, needed: 1 });
            };
            let expert = self.inputs.eligible[i].expert;
            if self.taken.insert(expert) {
                let pick = Pick { seq: self.picks.len() as u32 + 1, group: g as u32, expert, role };
                self.picks.push(pick.clone());
                return Ok(pick);
            }
        }
    }
}

/// A recorded draw to check: the inputs, the revealed secret, the digests the record states,
/// the groups whose replacements were asked for in order, and the picks and calls it lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recorded {
    /// The inputs.
    pub inputs: Inputs,
    /// The revealed secret, hex.
    pub secret: String,
    /// The request digest the record states, hex.
    pub request_digest: String,
    /// The eligible list's digest the record states, hex.
    pub eligible_digest: String,
    /// The picks as recorded.
    pub picks: Vec<Pick>,
    /// The replacements asked for, in order: the member who left, its group, and the expert
    /// each call brought in.
    pub calls: Vec<Call>,
    /// The committee after the calls, seat by seat (a member who left gives its seat to the
    /// expert called in).
    pub committee: Vec<Uuid>,
}

/// One replacement asked for and whom it brought in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Call {
    /// The member who left.
    pub left: Uuid,
    /// The group of the member who left.
    pub group: u32,
    /// The expert called in.
    pub expert: Uuid,
}

/// Runs a recorded draw again and compares: the secret with the commitment, the digests with
/// the data, every pick, every replacement and the final committee with what the draw gives.
/// Returns the picks.
pub fn verify(record: &Recorded) -> Result<Vec<Pick>, DrawError> {
    let secret = hex32(&record.secret, "secret")?;
    if hex::encode(record.inputs.request_digest()) != record.request_digest.to_ascii_lowercase() {
        return Err(DrawError::DigestMismatch("request"));
    }
    if hex::encode(record.inputs.eligible_digest()) != record.eligible_digest.to_ascii_lowercase() {
        return Err(DrawError::DigestMismatch("eligible list"));
    }
    let mut draw = Draw::start(&record.inputs, &secret)?;
    let mut seats: Vec<(u32, Uuid)> =
        draw.picks().iter().filter(|p| p.role == Role::Member).map(|p| (p.group, p.expert)).collect();
    let mut called = Vec::new();
    for (k, call) in record.calls.iter().enumerate() {
        let Some(seat) = seats.iter().position(|s| *s == (call.group, call.left)) else {
            return Err(DrawError::Malformed(format!(
                "call {}: {} is not a member of group {} at that point",
                k + 1,
                call.left,
                call.group
            )));
        };
        let got = draw.replace(call.group)?;
        seats[seat].1 = got.expert;
        called.push(got);
    }
    let computed = draw.picks();
    let n = computed.len().max(record.picks.len());
    for k in 0..n {
        let (r, c) = (record.picks.get(k), computed.get(k));
        if r != c {
            let show = |p: Option<&Pick>| {
                p.map(|p| format!("{} ({:?}, group {})", p.expert, p.role, p.group)).unwrap_or_else(|| "nothing".into())
            };
            return Err(DrawError::PickMismatch { seq: k as u32 + 1, recorded: show(r), computed: show(c) });
        }
    }
    for (k, (call, got)) in record.calls.iter().zip(&called).enumerate() {
        if call.expert != got.expert {
            return Err(DrawError::PickMismatch {
                seq: k as u32 + 1,
                recorded: format!("call {}: {}", k + 1, call.expert),
                computed: format!("call {}: {}", k + 1, got.expert),
            });
        }
    }
    let committee: Vec<Uuid> = seats.iter().map(|s| s.1).collect();
    if committee != record.committee {
        return Err(DrawError::CommitteeMismatch);
    }
    Ok(computed.to_vec())
}

/// One group's shuffled order, computed as far as it is read.
struct GroupOrder {
    stream: Stream,
    items: Vec<usize>,
    next: usize,
}

impl GroupOrder {
    fn new(seed: [u8; 32], group: u32, items: Vec<usize>) -> Self {
        Self { stream: Stream::new(seed, group), items, next: 0 }
    }

    /// The next position of the order (an index into the eligible list), or `None` at its end.
    fn next(&mut self) -> Option<usize> {
        let k = self.next;
        let len = self.items.len();
        if k >= len {
            return None;
        }
        let j = k + self.stream.below((len - k) as u64) as usize;
        self.items.swap(k, j);
        self.next += 1;
        Some(self.items[k])
    }
}

/// The random numbers of one group: SHA-256 in counter mode over the seed.
struct Stream {
    seed: [u8; 32],
    group: u32,
    block: u64,
    buf: [u8; 32],
    used: usize,
}

impl Stream {
    fn new(seed: [u8; 32], group: u32) -> Self {
        Self { seed, group, block: 0, buf: [0; 32], used: 32 }
    }

    fn next_u64(&mut self) -> u64 {
        if self.used == 32 {
            let mut ctx = Context::new(&SHA256);
            ctx.update(&self.seed);
            ctx.update(b"group");
            ctx.update(&self.group.to_be_bytes());
            ctx.update(&self.block.to_be_bytes());
            self.buf = to32(ctx.finish().as_ref());
            self.block += 1;
            self.used = 0;
        }
        let mut b = [0u8; 8];
        b.copy_from_slice(&self.buf[self.used..self.used + 8]);
        self.used += 8;
        u64::from_be_bytes(b)
    }

    /// A number in `0..n`, every value equally likely (`n` > 0).
    fn below(&mut self, n: u64) -> u64 {
        let zone = u64::MAX - (u64::MAX % n);
        loop {
            let x = self.next_u64();
            if x < zone {
                return x % n;
            }
        }
    }
}

fn sha256(data: &[u8]) -> [u8; 32] {
    to32(digest(&SHA256, data).as_ref())
}

fn to32(b: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(&b[..32]);
    out
}

/// Reads 32 bytes written as 64 hex digits.
pub fn hex32(text: &str, what: &str) -> Result<[u8; 32], DrawError> {
    let bytes = hex::decode(text.trim()).map_err(|_| DrawError::Malformed(format!("the {what} is not hex")))?;
    if bytes.len() != 32 {
        return Err(DrawError::Malformed(format!("the {what} is not 32 bytes")));
    }
    Ok(to32(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uuid(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn pool(n: u128, site: Uuid) -> Vec<Candidate> {
        (1..=n)
            .map(|i| Candidate {
                expert: uuid(i),
                specialties: vec![if i % 2 == 0 { "A0201".into() } else { "B01".into() }],
                site,
            })
            .collect()
    }

    fn inputs(secret: &[u8; 32]) -> Inputs {
        let (host, guest) = (uuid(1000), uuid(2000));
        let mut eligible = pool(40, host);
        eligible.extend((41..=60).map(|i| Candidate { expert: uuid(i), specialties: vec!["A02".into()], site: guest }));
        Inputs {
            request: Request {
                groups: vec![
                    Group { specialty: "A02".into(), site: host, count: 3 },
                    Group { specialty: "A02".into(), site: guest, count: 2 },
                ],
                reserve: 2,
            },
            eligible,
            commitment: commitment(secret),
            contribution: hex::encode([7u8; 32]),
        }
    }

    fn record(inputs: &Inputs, secret: &[u8; 32], calls: &[u32]) -> Recorded {
        let mut draw = Draw::start(inputs, secret).expect("draw");
        let mut seats: Vec<(u32, Uuid)> =
            draw.picks().iter().filter(|p| p.role == Role::Member).map(|p| (p.group, p.expert)).collect();
        // Each call replaces the first seat of its group.
        let calls: Vec<Call> = calls
            .iter()
            .map(|g| {
                let seat = seats.iter().position(|s| s.0 == *g).expect("seat");
                let expert = draw.replace(*g).expect("replacement").expert;
                let left = std::mem::replace(&mut seats[seat].1, expert);
                Call { left, group: *g, expert }
            })
            .collect();
        Recorded {
            inputs: inputs.clone(),
            secret: hex::encode(secret),
            request_digest: hex::encode(inputs.request_digest()),
            eligible_digest: hex::encode(inputs.eligible_digest()),
            picks: draw.picks().to_vec(),
            calls,
            committee: seats.iter().map(|s| s.1).collect(),
        }
    }

    #[test]
    fn the_same_inputs_give_the_same_experts_in_the_same_order() {
        let secret = [3u8; 32];
        let i = inputs(&secret);
        let a = Draw::start(&i, &secret).expect("draw").picks().to_vec();
        let b = Draw::start(&i, &secret).expect("draw").picks().to_vec();
        assert_eq!(a, b);
        // 3 + 2 members, then 2 reserves per group.
        assert_eq!(a.len(), 9);
        assert_eq!(a.iter().filter(|p| p.role == Role::Member).count(), 5);
        let members: HashSet<Uuid> = a.iter().map(|p| p.expert).collect();
        assert_eq!(members.len(), 9, "no expert twice");
        for p in &a {
            let c = i.eligible.iter().find(|c| c.expert == p.expert).expect("eligible");
            let g = &i.request.groups[p.group as usize];
            assert_eq!(c.site, g.site);
            assert!(c.specialties.iter().any(|s| covers(&g.specialty, s)), "{c:?} for {g:?}");
        }
    }

    #[test]
    fn another_contribution_or_secret_gives_another_draw() {
        let secret = [3u8; 32];
        let i = inputs(&secret);
        let base = Draw::start(&i, &secret).expect("draw").picks().to_vec();
        let mut other = i.clone();
        other.contribution = hex::encode([8u8; 32]);
        assert_ne!(Draw::start(&other, &secret).expect("draw").picks(), base.as_slice());
        let secret2 = [4u8; 32];
        let mut i2 = i.clone();
        i2.commitment = commitment(&secret2);
        assert_ne!(Draw::start(&i2, &secret2).expect("draw").picks(), base.as_slice());
        // The secret must be the committed one.
        assert_eq!(Draw::start(&i, &secret2).err(), Some(DrawError::SecretMismatch));
    }

    #[test]
    fn replacements_call_reserves_first_then_draw_further() {
        let secret = [5u8; 32];
        let i = inputs(&secret);
        let mut d = Draw::start(&i, &secret).expect("draw");
        let reserves: Vec<Uuid> =
            d.picks().iter().filter(|p| p.group == 1 && p.role == Role::Reserve).map(|p| p.expert).collect();
        assert_eq!(d.replace(1).expect("r").expert, reserves[0]);
        assert_eq!(d.replace(1).expect("r").expert, reserves[1]);
        let third = d.replace(1).expect("r");
        assert_eq!(third.role, Role::Replacement);
        assert!(!reserves.contains(&third.expert));
        // Group 1 has 20 candidates: 2 members + 2 reserves + 16 more replacements, then none.
        for _ in 0..15 {
            d.replace(1).expect("r");
        }
        assert_eq!(d.replace(1).err(), Some(DrawError::Exhausted { group: 1, needed: 1 }));
    }

    #[test]
    fn a_recorded_draw_verifies_and_every_alteration_fails() {
        let secret = [9u8; 32];
        let i = inputs(&secret);
        let r = record(&i, &secret, &[0, 1, 0]);
        assert_eq!(verify(&r).expect("verifies"), r.picks);

        let mut bad = r.clone();
        bad.secret = hex::encode([1u8; 32]);
        assert_eq!(verify(&bad).err(), Some(DrawError::SecretMismatch));

        let mut bad = r.clone();
        bad.inputs.eligible.remove(3);
        assert_eq!(verify(&bad).err(), Some(DrawError::DigestMismatch("eligible list")));

        let mut bad = r.clone();
        bad.inputs.request.groups[0].count = 4;
        assert_eq!(verify(&bad).err(), Some(DrawError::DigestMismatch("request")));

        // A swapped pick (digests intact).
        let mut bad = r.clone();
        bad.picks.swap(0, 1);
        assert!(matches!(verify(&bad), Err(DrawError::PickMismatch { seq: 1, .. })));

        // A replacement brought in someone else.
        let mut bad = r.clone();
        bad.calls[2].expert = uuid(59);
        assert!(matches!(verify(&bad), Err(DrawError::PickMismatch { .. })), "{:?}", verify(&bad));

        // A replacement left out of the record.
        let mut bad = r.clone();
        bad.calls.pop();
        assert_eq!(verify(&bad).err(), Some(DrawError::CommitteeMismatch));

        // A committee seat given to someone not drawn.
        let mut bad = r.clone();
        bad.committee[0] = uuid(60);
        assert_eq!(verify(&bad).err(), Some(DrawError::CommitteeMismatch));

        // A call for someone who was not a member.
        let mut bad = r.clone();
        bad.calls[0].left = uuid(58);
        assert!(matches!(verify(&bad), Err(DrawError::Malformed(_))));
    }

    #[test]
    fn every_candidate_is_about_equally_likely_to_be_drawn_first() {
        let site = uuid(1000);
        let eligible: Vec<Candidate> =
            (1..=10).map(|i| Candidate { expert: uuid(i), specialties: vec!["A".into()], site }).collect();
        let mut counts = [0u32; 10];
        for s in 0..4000u32 {
            let mut secret = [0u8; 32];
            secret[..4].copy_from_slice(&s.to_be_bytes());
            let i = Inputs {
                request: Request { groups: vec![Group { specialty: "A".into(), site, count: 1 }], reserve: 0 },
                eligible: eligible.clone(),
                commitment: commitment(&secret),
                contribution: hex::encode([0u8; 32]),
            };
            let first = Draw::start(&i, &secret).expect("draw").picks()[0].expert;
            counts[(first.as_u128() - 1) as usize] += 1;
        }
        // 400 expected each; a fair draw stays well within ±25 % (about 5 standard deviations).
        for c in counts {
            assert!((300..=500).contains(&c), "{counts:?}");
        }
    }

    #[test]
    fn a_group_without_enough_candidates_is_refused() {
        let secret = [1u8; 32];
        let mut i = inputs(&secret);
        i.request.groups[1].count = 21;
        assert!(matches!(Draw::start(&i, &secret), Err(DrawError::Exhausted { group: 1, .. })));
    }

    #[test]
    fn covers_takes_the_code_and_its_sub_codes() {
        assert!(covers("A02", "A02"));
        assert!(covers("A02", "A0201"));
        assert!(!covers("A02", "A03"));
        assert!(!covers("A0201", "A02"));
        assert!(!covers("", "A02"));
    }

    #[test]
    fn a_known_draw_stays_the_same() {
        // Pins the algorithm: a change to it is a new version.
        let site = uuid(1);
        let eligible: Vec<Candidate> =
            (10..20).map(|i| Candidate { expert: uuid(i), specialties: vec!["C01".into()], site }).collect();
        let secret = [0x42u8; 32];
        let i = Inputs {
            request: Request { groups: vec![Group { specialty: "C".into(), site, count: 3 }], reserve: 1 },
            eligible,
            commitment: commitment(&secret),
            contribution: hex::encode([0x24u8; 32]),
        };
        let got: Vec<u128> =
            Draw::start(&i, &secret).expect("draw").picks().iter().map(|p| p.expert.as_u128()).collect();
        assert_eq!(got, PINNED.to_vec());
    }

    const PINNED: [u128; 4] = [15, 18, 12, 16];
}
