//! An in-process, stateful WUTS: groups, communities, members, admins and
//! invite links, answering with WhatsApp's per-participant codes. It backs the
//! embedded local default and the tests' WUTS fake (served over HTTP there).

use std::collections::{BTreeMap, HashSet};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;

use super::{
    Action, AddRequest, CallMeta, GroupKind, ParticipantsCall, WutsClient, WutsError,
    WutsParticipant, WutsTarget,
};
use crate::jid::GroupJid;

pub const DEMO_GROUP: &str = "120363039000000000@g.us";
/// A second demo group, the one the leave event leaves (so the other events
/// keep their group).
pub const DEMO_SPARE_GROUP: &str = "120363039000000001@g.us";
pub const DEMO_COMMUNITY: &str = "120363099000000000@g.us";
pub const DEMO_MEMBERS: [&str; 3] = [
    "5511888888888@s.whatsapp.net",
    "5511777777777@s.whatsapp.net",
    "123456789@lid",
];

#[derive(Debug, Clone, Default)]
pub struct Member {
    pub is_admin: bool,
    pub is_super_admin: bool,
}

#[derive(Debug, Clone)]
pub struct SimGroup {
    pub is_community: bool,
    /// Whether the session's own account is an admin (else 403 not_admin).
    pub we_are_admin: bool,
    pub members: BTreeMap<String, Member>,
    pub capacity: usize,
    pub invite_code: String,
    /// The disappearing-message timer, in seconds (0: off).
    pub ephemeral_seconds: u32,
}

impl SimGroup {
    pub fn new(members: &[&str]) -> Self {
        Self {
            is_community: false,
            we_are_admin: true,
            members: members
                .iter()
                .map(|m| (m.to_string(), Member::default()))
                .collect(),
            capacity: 1024,
            invite_code: new_invite_code(),
            ephemeral_seconds: 0,
        }
    }

    pub fn community(members: &[&str]) -> Self {
        Self {
            is_community: true,
            ..Self::new(members)
        }
    }
}

#[derive(Debug, Default)]
struct State {
    groups: BTreeMap<String, SimGroup>,
    connected: bool,
    privacy_restricted: HashSet<String>,
    not_on_whatsapp: HashSet<String>,
}

pub struct Simulator {
    state: Mutex<State>,
}

impl Default for Simulator {
    fn default() -> Self {
        Self::new()
    }
}

fn new_invite_code() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..22].to_string()
}

pub fn invite_link(code: &str) -> String {
    format!("https://chat.whatsapp.com/{code}")
}

fn wuts_status(status: u16, code: &str) -> WutsError {
    WutsError::Status {
        status,
        code: Some(code.to_string()),
        retry_after: None,
    }
}

impl Simulator {
    /// An empty, connected session.
    pub fn new() -> Self {
        Self {
            state: Mutex::new(State {
                connected: true,
                ..State::default()
            }),
        }
    }

    /// A demo group and a demo community with a few members each.
    pub fn demo() -> Self {
        let sim = Self::new();
        sim.put_group(DEMO_GROUP, SimGroup::new(&DEMO_MEMBERS));
        sim.put_group(DEMO_SPARE_GROUP, SimGroup::new(&DEMO_MEMBERS));
        sim.put_group(DEMO_COMMUNITY, SimGroup::community(&DEMO_MEMBERS));
        sim
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the maps half-updated in a
        // way that matters to a simulator; keep serving.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn put_group(&self, jid: &str, group: SimGroup) {
        self.lock().groups.insert(jid.to_string(), group);
    }

    pub fn group(&self, jid: &str) -> Option<SimGroup> {
        self.lock().groups.get(jid).cloned()
    }

    pub fn set_connected(&self, connected: bool) {
        self.lock().connected = connected;
    }

    pub fn set_privacy_restricted(&self, jid: &str) {
        self.lock().privacy_restricted.insert(jid.to_string());
    }

    pub fn set_not_on_whatsapp(&self, jid: &str) {
        self.lock().not_on_whatsapp.insert(jid.to_string());
    }

    fn writable_group<'a>(
        groups: &'a mut BTreeMap<String, SimGroup>,
        connected: bool,
        kind: GroupKind,
        jid: &str,
    ) -> Result<&'a mut SimGroup, WutsError> {
        if !connected {
            return Err(wuts_status(409, "session_not_connected"));
        }
        let group = groups
            .get_mut(jid)
            .ok_or_else(|| wuts_status(404, "group_not_found"))?;
        if kind == GroupKind::Community && !group.is_community {
            return Err(wuts_status(404, "not_a_community"));
        }
        if !group.we_are_admin {
            return Err(wuts_status(403, "not_admin"));
        }
        Ok(group)
    }

    /// Applies a participant update as WhatsApp would, one code per participant.
    pub fn apply(&self, call: &ParticipantsCall) -> Result<Vec<WutsParticipant>, WutsError> {
        let mut state = self.lock();
        let State {
            groups,
            connected,
            privacy_restricted: restricted,
            not_on_whatsapp,
        } = &mut *state;
        let group = Self::writable_group(groups, *connected, call.kind, call.group.as_str())?;
        let mut reply = Vec::with_capacity(call.participants.len());
        for participant in &call.participants {
            let jid = participant.as_str();
            let mut add_request = None;
            let code = match call.action {
                Action::Add if group.members.contains_key(jid) => 409,
                Action::Add if not_on_whatsapp.contains(jid) => 404,
                Action::Add if restricted.contains(jid) => {
                    add_request = Some(AddRequest {
                        code: new_invite_code(),
                        expiration: Some(crate::clock::now_epoch() + 7 * 86_400),
                    });
                    403
                }
                Action::Add if group.members.len() >= group.capacity => 419,
                Action::Add => {
                    group.members.insert(jid.to_string(), Member::default());
                    0
                }
                Action::Remove => match group.members.remove(jid) {
                    Some(_) => 0,
                    None => 404,
                },
                Action::Promote | Action::Demote => match group.members.get_mut(jid) {
                    Some(member) => {
                        member.is_admin = call.action == Action::Promote;
                        0
                    }
                    None => 404,
                },
            };
            let member = group.members.get(jid).cloned().unwrap_or_default();
            reply.push(WutsParticipant {
                jid: jid.to_string(),
                phone_number: participant.phone_number().map(str::to_string),
                lid: jid.ends_with("@lid").then(|| jid.to_string()),
                is_admin: member.is_admin,
                is_super_admin: member.is_super_admin,
                error: Some(code),
                add_request,
            });
        }
        Ok(reply)
    }

    pub fn reset(&self, group: &GroupJid) -> Result<String, WutsError> {
        self.with_plain_group(group, |g| {
            g.invite_code = new_invite_code();
            invite_link(&g.invite_code)
        })
    }

    pub fn current_invite(&self, group: &GroupJid) -> Result<String, WutsError> {
        self.with_plain_group(group, |g| invite_link(&g.invite_code))
    }

    /// The account leaves: the group is gone from its list. Any member may
    /// leave, admin or not.
    pub fn leave(&self, group: &GroupJid) -> Result<(), WutsError> {
        let mut state = self.lock();
        if !state.connected {
            return Err(wuts_status(409, "session_not_connected"));
        }
        state
            .groups
            .remove(group.as_str())
            .map(|_| ())
            .ok_or_else(|| wuts_status(404, "group_not_found"))
    }

    pub fn set_ephemeral(&self, group: &GroupJid, seconds: u32) -> Result<(), WutsError> {
        self.with_plain_group(group, |g| g.ephemeral_seconds = seconds)
    }

    /// Runs `f` on a plain group of a connected session (the invite calls).
    fn with_plain_group<T>(
        &self,
        group: &GroupJid,
        f: impl FnOnce(&mut SimGroup) -> T,
    ) -> Result<T, WutsError> {
        let mut state = self.lock();
        let connected = state.connected;
        let group = Self::writable_group(
            &mut state.groups,
            connected,
            GroupKind::Group,
            group.as_str(),
        )?;
        Ok(f(group))
    }
}

#[async_trait]
impl WutsClient for Simulator {
    async fn update_participants(
        &self,
        _target: &WutsTarget,
        call: &ParticipantsCall,
        _meta: CallMeta,
    ) -> Result<Vec<WutsParticipant>, WutsError> {
        self.apply(call)
    }

    async fn reset_invite(
        &self,
        _target: &WutsTarget,
        group: &GroupJid,
        _meta: CallMeta,
    ) -> Result<String, WutsError> {
        self.reset(group)
    }

    async fn get_invite(
        &self,
        _target: &WutsTarget,
        group: &GroupJid,
        _meta: CallMeta,
    ) -> Result<String, WutsError> {
        self.current_invite(group)
    }

    async fn leave_group(
        &self,
        _target: &WutsTarget,
        group: &GroupJid,
        _meta: CallMeta,
    ) -> Result<(), WutsError> {
        self.leave(group)
    }

    async fn set_ephemeral(
        &self,
        _target: &WutsTarget,
        group: &GroupJid,
        seconds: u32,
        _meta: CallMeta,
    ) -> Result<(), WutsError> {
        Simulator::set_ephemeral(self, group, seconds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jid::ParticipantJid;

    fn call(kind: GroupKind, group: &str, action: Action, who: &[&str]) -> ParticipantsCall {
        ParticipantsCall {
            kind,
            group: GroupJid::parse(group).unwrap(),
            action,
            participants: who
                .iter()
                .map(|p| ParticipantJid::normalise(p).unwrap())
                .collect(),
        }
    }

    #[test]
    fn remove_then_remove_again() {
        let sim = Simulator::demo();
        let c = call(
            GroupKind::Group,
            DEMO_GROUP,
            Action::Remove,
            &[DEMO_MEMBERS[0]],
        );
        assert_eq!(sim.apply(&c).unwrap()[0].error, Some(0));
        assert_eq!(sim.apply(&c).unwrap()[0].error, Some(404));
        assert!(
            !sim.group(DEMO_GROUP)
                .unwrap()
                .members
                .contains_key(DEMO_MEMBERS[0])
        );
    }

    #[test]
    fn add_codes() {
        let sim = Simulator::demo();
        sim.set_privacy_restricted("5511000000001@s.whatsapp.net");
        sim.set_not_on_whatsapp("5511000000002@s.whatsapp.net");
        let reply = sim
            .apply(&call(
                GroupKind::Group,
                DEMO_GROUP,
                Action::Add,
                &[
                    DEMO_MEMBERS[0],
                    "5511000000001@s.whatsapp.net",
                    "5511000000002@s.whatsapp.net",
                    "5511000000003@s.whatsapp.net",
                ],
            ))
            .unwrap();
        let codes: Vec<_> = reply.iter().map(|p| p.error).collect();
        assert_eq!(codes, vec![Some(409), Some(403), Some(404), Some(0)]);
        assert!(reply[1].add_request.is_some());
    }

    #[test]
    fn community_route_refuses_plain_groups_and_errors_apply() {
        let sim = Simulator::demo();
        let err = sim
            .apply(&call(
                GroupKind::Community,
                DEMO_GROUP,
                Action::Remove,
                &[DEMO_MEMBERS[0]],
            ))
            .unwrap_err();
        assert_eq!(err, wuts_status(404, "not_a_community"));
        sim.set_connected(false);
        let err = sim
            .reset(&GroupJid::parse(DEMO_GROUP).unwrap())
            .unwrap_err();
        assert_eq!(err, wuts_status(409, "session_not_connected"));
    }

    #[test]
    fn reset_changes_the_link() {
        let sim = Simulator::demo();
        let g = GroupJid::parse(DEMO_GROUP).unwrap();
        let a = sim.reset(&g).unwrap();
        let b = sim.reset(&g).unwrap();
        assert_ne!(a, b);
        assert_eq!(sim.current_invite(&g).unwrap(), b);
        assert!(b.starts_with("https://chat.whatsapp.com/"));
    }
}
