//! An in-process, stateful WUTS: groups, communities, members, admins and
//! invite links, answering with WhatsApp's per-participant codes. It backs the
//! embedded local default and the tests' WUTS fake (served over HTTP there).

use std::collections::{BTreeMap, HashSet};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;

use shared::engine::calls::InviteCall;
use shared::engine::groups::{
    Group, GroupChange, Join, Joined, Member as GroupMember, NewCommunity, NewGroup,
};
use shared::engine::{
    Action, AddRequest, AnyCall, AnyReply, CallMeta, Engine, EngineError, EngineParticipant,
    EngineTarget, GroupKind, UpdateParticipants,
};
use shared::jid::GroupJid;

pub const DEMO_GROUP: &str = "120363039000000000@g.us";
/// A second demo group, the one the leave event leaves (so the other events
/// keep their group).
pub const DEMO_SPARE_GROUP: &str = "120363039000000001@g.us";
pub const DEMO_COMMUNITY: &str = "120363099000000000@g.us";
/// A group linked to the demo community (the unlink event's).
pub const DEMO_LINKED_GROUP: &str = "120363039000000002@g.us";
/// A group the account is not in, joinable with [`DEMO_INVITE_CODE`].
pub const DEMO_JOINABLE_GROUP: &str = "120363039000000003@g.us";
/// A group that needs an admin's approval to join, with pending requests
/// (the join-requests events').
pub const DEMO_APPROVAL_GROUP: &str = "120363039000000010@g.us";
/// Who asks to join [`DEMO_APPROVAL_GROUP`]: by phone number, by LID.
pub const DEMO_REQUESTERS: [&str; 2] = ["5511666666666@s.whatsapp.net", "98765432101234@lid"];
/// The demo community's announcement group.
pub const DEMO_ANNOUNCEMENT_GROUP: &str = "120363039000000011@g.us";
/// 22 letters and digits: every engine's invite-code form.
pub const DEMO_INVITE_CODE: &str = "DemoJoinCode1234567890";
/// The session's own account: owner of what it creates.
pub const SIM_ACCOUNT: &str = "5511999999999@s.whatsapp.net";
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
    pub name: String,
    pub topic: Option<String>,
    pub owner: Option<String>,
    /// Epoch seconds.
    pub created_at: i64,
    pub announce: bool,
    pub locked: bool,
    pub join_approval: bool,
    pub members_can_add: bool,
    /// The community this group is linked to.
    pub parent: Option<String>,
    /// Whether it is its community's announcement group.
    pub announcement_group: bool,
    pub picture_id: Option<String>,
    /// Pending requests to join: who, and when (epoch seconds).
    pub join_requests: BTreeMap<String, i64>,
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
            name: "Group".into(),
            topic: None,
            owner: Some(SIM_ACCOUNT.into()),
            created_at: 1_781_524_800,
            announce: false,
            locked: false,
            join_approval: false,
            members_can_add: false,
            parent: None,
            announcement_group: false,
            picture_id: None,
            join_requests: BTreeMap::new(),
        }
    }

    pub fn named(mut self, name: &str) -> Self {
        self.name = name.into();
        self
    }

    /// The group as our API shows it.
    pub fn to_group(&self, jid: &str, with_participants: bool) -> Group {
        Group {
            jid: jid.to_string(),
            name: self.name.clone(),
            topic: self.topic.clone(),
            owner: self.owner.clone(),
            created_at: shared::engine::groups::epoch_to_rfc3339(Some(&self.created_at.into())),
            is_announce: self.announce,
            is_locked: self.locked,
            join_approval: Some(self.join_approval),
            members_count: u32::try_from(self.members.len()).unwrap_or(u32::MAX),
            participants: with_participants.then(|| {
                self.members
                    .iter()
                    .map(|(jid, m)| GroupMember {
                        jid: jid.clone(),
                        phone_number: jid.ends_with("@s.whatsapp.net").then(|| jid.clone()),
                        lid: jid.ends_with("@lid").then(|| jid.clone()),
                        is_admin: m.is_admin || m.is_super_admin,
                        is_super_admin: m.is_super_admin,
                    })
                    .collect()
            }),
            is_community: Some(self.is_community),
            parent_jid: self.parent.clone(),
            is_announcement_group: self.announcement_group.then_some(true),
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
    /// Groups the account is not in, by invite code.
    joinable: BTreeMap<String, (String, SimGroup)>,
    created: u64,
    /// The add requests privacy refusals gave: code → (group, participant).
    add_requests: BTreeMap<String, (String, String)>,
    /// Private invitations sent: (group, participant).
    invites_sent: Vec<(String, String)>,
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

fn wuts_status(status: u16, code: &str) -> EngineError {
    EngineError::Status {
        settled: true,
        status,
        code: Some(code.to_string()),
        retry_after: None,
    }
}

impl Simulator {
    /// An empty, connected session.
    pub fn new() -> Self {
        crate::mark();
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
        sim.put_group(DEMO_GROUP, SimGroup::new(&DEMO_MEMBERS).named("Demo group"));
        sim.put_group(
            DEMO_SPARE_GROUP,
            SimGroup::new(&DEMO_MEMBERS).named("Spare group"),
        );
        sim.put_group(
            DEMO_COMMUNITY,
            SimGroup::community(&DEMO_MEMBERS).named("Demo community"),
        );
        let mut linked = SimGroup::new(&DEMO_MEMBERS).named("Linked group");
        linked.parent = Some(DEMO_COMMUNITY.into());
        sim.put_group(DEMO_LINKED_GROUP, linked);
        let mut announcements = SimGroup::new(&DEMO_MEMBERS).named("Demo community");
        announcements.parent = Some(DEMO_COMMUNITY.into());
        announcements.announcement_group = true;
        announcements.announce = true;
        sim.put_group(DEMO_ANNOUNCEMENT_GROUP, announcements);
        let mut approval = SimGroup::new(&DEMO_MEMBERS).named("Approval group");
        approval.join_approval = true;
        approval.join_requests = DEMO_REQUESTERS
            .iter()
            .zip([1_781_600_000, 1_781_600_060])
            .map(|(j, at)| (j.to_string(), at))
            .collect();
        sim.put_group(DEMO_APPROVAL_GROUP, approval);
        sim.put_joinable(
            DEMO_INVITE_CODE,
            DEMO_JOINABLE_GROUP,
            SimGroup::new(&DEMO_MEMBERS[..1]).named("Open group"),
        );
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

    /// A group the account may join with `code`.
    pub fn put_joinable(&self, code: &str, jid: &str, group: SimGroup) {
        self.lock()
            .joinable
            .insert(code.to_string(), (jid.to_string(), group));
    }

    pub fn set_connected(&self, connected: bool) {
        self.lock().connected = connected;
    }

    pub fn is_connected(&self) -> bool {
        self.lock().connected
    }

    pub fn set_privacy_restricted(&self, jid: &str) {
        self.lock().privacy_restricted.insert(jid.to_string());
    }

    pub fn set_not_on_whatsapp(&self, jid: &str) {
        self.lock().not_on_whatsapp.insert(jid.to_string());
    }

    /// The private invitations sent so far: (group, participant).
    pub fn invites_sent(&self) -> Vec<(String, String)> {
        self.lock().invites_sent.clone()
    }

    /// Someone asks to join `group` (at epoch seconds `at`).
    pub fn request_to_join(&self, group: &str, jid: &str, at: i64) {
        if let Some(g) = self.lock().groups.get_mut(group) {
            g.join_requests.insert(jid.to_string(), at);
        }
    }

    fn writable_group<'a>(
        groups: &'a mut BTreeMap<String, SimGroup>,
        connected: bool,
        kind: GroupKind,
        jid: &str,
    ) -> Result<&'a mut SimGroup, EngineError> {
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
    pub fn apply(&self, call: &UpdateParticipants) -> Result<Vec<EngineParticipant>, EngineError> {
        let mut state = self.lock();
        let State {
            groups,
            connected,
            privacy_restricted: restricted,
            not_on_whatsapp,
            ..
        } = &mut *state;
        let group = Self::writable_group(groups, *connected, call.kind, call.group.as_str())?;
        let mut reply = Vec::with_capacity(call.participants.len());
        let mut issued = Vec::new();
        for participant in &call.participants {
            let jid = participant.as_str();
            let mut add_request = None;
            let code = match call.action {
                Action::Add if group.members.contains_key(jid) => 409,
                Action::Add if not_on_whatsapp.contains(jid) => 404,
                Action::Add if restricted.contains(jid) => {
                    let code = new_invite_code();
                    issued.push((code.clone(), jid.to_string()));
                    add_request = Some(AddRequest {
                        code,
                        expiration: Some(shared::clock::now_epoch() + 7 * 86_400),
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
            reply.push(EngineParticipant {
                jid: jid.to_string(),
                phone_number: participant.phone_number().map(str::to_string),
                lid: jid.ends_with("@lid").then(|| jid.to_string()),
                is_admin: member.is_admin,
                is_super_admin: member.is_super_admin,
                error: Some(code),
                add_request,
                invite_sent: None,
            });
        }
        for (code, jid) in issued {
            state
                .add_requests
                .insert(code, (call.group.as_str().to_string(), jid));
        }
        Ok(reply)
    }

    /// The pending requests to join (admins only).
    pub fn join_requests(
        &self,
        group: &GroupJid,
    ) -> Result<Vec<shared::engine::groups::JoinRequest>, EngineError> {
        self.with_plain_group(group, |g| {
            g.join_requests
                .iter()
                .filter_map(|(jid, at)| {
                    shared::engine::groups::JoinRequest::new(
                        jid,
                        None,
                        shared::engine::groups::epoch_secs_to_rfc3339(*at),
                        Some("invite_link"),
                    )
                })
                .collect()
        })
    }

    /// Approves (members now) or rejects pending requests: 0 for each
    /// request answered, 404 for someone with none pending.
    pub fn answer_join_requests(
        &self,
        group: &GroupJid,
        approve: bool,
        who: &[shared::jid::ParticipantJid],
    ) -> Result<Vec<EngineParticipant>, EngineError> {
        self.with_plain_group(group, |g| {
            who.iter()
                .map(|p| {
                    let jid = p.as_str();
                    let code = match g.join_requests.remove(jid) {
                        Some(_) if approve => {
                            g.members.insert(jid.to_string(), Member::default());
                            0
                        }
                        Some(_) => 0,
                        None => 404,
                    };
                    EngineParticipant {
                        jid: jid.to_string(),
                        phone_number: p.phone_number().map(str::to_string),
                        lid: jid.ends_with("@lid").then(|| jid.to_string()),
                        is_admin: false,
                        is_super_admin: false,
                        error: Some(code),
                        add_request: None,
                        invite_sent: None,
                    }
                })
                .collect()
        })
    }

    /// The group an invite code leads to, without joining it: a group not
    /// joined yet, or one of the account's by its current link.
    pub fn invite_info(&self, code: &str) -> Result<Group, EngineError> {
        let state = self.lock();
        Self::connected(&state)?;
        if let Some((jid, g)) = state.joinable.get(code) {
            return Ok(g.to_group(jid, false));
        }
        state
            .groups
            .iter()
            .find(|(_, g)| g.invite_code == code)
            .map(|(jid, g)| g.to_group(jid, false))
            .ok_or_else(|| wuts_status(404, "group_not_found"))
    }

    /// The groups linked to a community the account is in.
    pub fn community_groups(&self, community: &GroupJid) -> Result<Vec<Group>, EngineError> {
        let state = self.lock();
        Self::connected(&state)?;
        match state.groups.get(community.as_str()) {
            Some(c) if c.is_community => {}
            Some(_) => return Err(wuts_status(404, "not_a_community")),
            None => return Err(wuts_status(404, "group_not_found")),
        }
        Ok(state
            .groups
            .iter()
            .filter(|(_, g)| g.parent.as_deref() == Some(community.as_str()))
            .map(|(jid, g)| g.to_group(jid, false))
            .collect())
    }

    /// Sends the private invitation an add request allows: the code must be
    /// one a refusal of `participant` to `group` gave.
    pub fn private_invite(
        &self,
        group: &GroupJid,
        participant: &str,
        code: &str,
    ) -> Result<(), EngineError> {
        let mut state = self.lock();
        Self::connected(&state)?;
        match state.add_requests.get(code) {
            Some((g, p)) if g == group.as_str() && p == participant => {}
            _ => return Err(wuts_status(400, "bad_request")),
        }
        state
            .invites_sent
            .push((group.as_str().to_string(), participant.to_string()));
        Ok(())
    }

    pub fn reset(&self, group: &GroupJid) -> Result<String, EngineError> {
        self.with_plain_group(group, |g| {
            g.invite_code = new_invite_code();
            invite_link(&g.invite_code)
        })
    }

    pub fn current_invite(&self, group: &GroupJid) -> Result<String, EngineError> {
        self.with_plain_group(group, |g| invite_link(&g.invite_code))
    }

    /// The account leaves: the group is gone from its list. Any member may
    /// leave, admin or not.
    pub fn leave(&self, group: &GroupJid) -> Result<(), EngineError> {
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

    pub fn set_ephemeral(&self, group: &GroupJid, seconds: u32) -> Result<(), EngineError> {
        self.with_plain_group(group, |g| g.ephemeral_seconds = seconds)
    }

    fn connected(state: &State) -> Result<(), EngineError> {
        if state.connected {
            Ok(())
        } else {
            Err(wuts_status(409, "session_not_connected"))
        }
    }

    /// A new group: the participants WhatsApp can add are in (privacy
    /// refusals and numbers not on WhatsApp are not), the account owns it.
    pub fn create(
        &self,
        name: &str,
        participants: &[shared::jid::ParticipantJid],
        community: bool,
        topic: Option<&str>,
    ) -> Result<(String, SimGroup), EngineError> {
        let mut state = self.lock();
        Self::connected(&state)?;
        state.created += 1;
        let jid = format!("1203630{:011}@g.us", 50_000_000_000 + state.created);
        let mut group = SimGroup::new(&[]).named(name);
        group.is_community = community;
        group.topic = topic.map(str::to_string);
        group.invite_code = new_invite_code();
        for p in participants {
            let p = p.as_str();
            if !state.privacy_restricted.contains(p) && !state.not_on_whatsapp.contains(p) {
                group.members.insert(p.to_string(), Member::default());
            }
        }
        state.groups.insert(jid.clone(), group.clone());
        Ok((jid, group))
    }

    pub fn create_group(&self, new: &NewGroup) -> Result<Group, EngineError> {
        let o = &new.options;
        if let Some(parent) = &o.parent_jid {
            let state = self.lock();
            match state.groups.get(parent.as_str()) {
                Some(g) if g.is_community => {}
                Some(_) => return Err(wuts_status(404, "not_a_community")),
                None => return Err(wuts_status(404, "group_not_found")),
            }
        }
        let (jid, _) = self.create(&new.name, &new.participants, o.community, None)?;
        let mut state = self.lock();
        let group = state
            .groups
            .get_mut(&jid)
            .ok_or_else(|| wuts_status(404, "group_not_found"))?;
        group.announce = o.announcement;
        group.locked = o.locked;
        group.join_approval = o.join_approval;
        group.parent = o.parent_jid.as_ref().map(|p| p.as_str().to_string());
        Ok(group.to_group(&jid, true))
    }

    pub fn create_community(&self, new: &NewCommunity) -> Result<Group, EngineError> {
        let (jid, group) = self.create(
            &new.name,
            &new.participants,
            true,
            new.description.as_deref(),
        )?;
        Ok(group.to_group(&jid, true))
    }

    /// The groups the account is in, without participants.
    pub fn list(&self) -> Result<Vec<Group>, EngineError> {
        let state = self.lock();
        Self::connected(&state)?;
        Ok(state
            .groups
            .iter()
            .map(|(jid, g)| g.to_group(jid, false))
            .collect())
    }

    /// One group the account is in, with participants.
    pub fn info(&self, group: &GroupJid) -> Result<Group, EngineError> {
        let state = self.lock();
        Self::connected(&state)?;
        state
            .groups
            .get(group.as_str())
            .map(|g| g.to_group(group.as_str(), true))
            .ok_or_else(|| wuts_status(404, "group_not_found"))
    }

    /// Applies a change (admins only); the refreshed group.
    pub fn update(&self, group: &GroupJid, change: &GroupChange) -> Result<Group, EngineError> {
        self.with_plain_group(group, |g| {
            if let Some(v) = &change.name {
                g.name = v.clone();
            }
            if let Some(v) = &change.topic {
                g.topic = Some(v.clone()).filter(|t| !t.is_empty());
            }
            if let Some(v) = change.announcement {
                g.announce = v;
            }
            if let Some(v) = change.locked {
                g.locked = v;
            }
            if let Some(v) = change.join_approval {
                g.join_approval = v;
            }
            if let Some(v) = change.member_add_mode {
                g.members_can_add = v == shared::engine::groups::MemberAddMode::AllMembers;
            }
            g.to_group(group.as_str(), true)
        })
    }

    /// Joins by invite code: a group asking for approval files a request
    /// (pending); joining a group already joined names it again.
    pub fn join(&self, join: &Join) -> Result<Joined, EngineError> {
        let mut state = self.lock();
        Self::connected(&state)?;
        let code = join.code();
        if let Some((jid, _)) = state.groups.iter().find(|(_, g)| g.invite_code == code) {
            return Ok(Joined {
                group_jid: Some(jid.clone()),
                pending_approval: Some(false),
            });
        }
        let Some((jid, group)) = state.joinable.get(code).cloned() else {
            return Err(wuts_status(404, "group_not_found"));
        };
        if group.join_approval {
            return Ok(Joined {
                group_jid: Some(jid),
                pending_approval: Some(true),
            });
        }
        state.joinable.remove(code);
        let mut group = group;
        group.invite_code = code.to_string();
        group.we_are_admin = false;
        group
            .members
            .insert(SIM_ACCOUNT.to_string(), Member::default());
        state.groups.insert(jid.clone(), group);
        Ok(Joined {
            group_jid: Some(jid),
            pending_approval: Some(false),
        })
    }

    /// Sets the picture (admins only); its new id.
    pub fn set_picture(&self, group: &GroupJid, jpeg: &[u8]) -> Result<String, EngineError> {
        if !jpeg.starts_with(&[0xFF, 0xD8, 0xFF]) {
            return Err(wuts_status(400, "bad_request"));
        }
        self.with_plain_group(group, |g| {
            let id = shared::clock::now_epoch().to_string() + &new_invite_code()[..6];
            g.picture_id = Some(id.clone());
            id
        })
    }

    /// Links `group` to `community` (or unlinks it): the account must be
    /// an admin of the community; unlinking a group not linked to it is a
    /// 404.
    pub fn link(
        &self,
        community: &GroupJid,
        group: &GroupJid,
        link: bool,
    ) -> Result<(), EngineError> {
        let mut state = self.lock();
        let connected = state.connected;
        Self::writable_group(
            &mut state.groups,
            connected,
            GroupKind::Community,
            community.as_str(),
        )?;
        let child = state
            .groups
            .get_mut(group.as_str())
            .ok_or_else(|| wuts_status(404, "group_not_found"))?;
        if child.is_community {
            return Err(wuts_status(400, "bad_request"));
        }
        if link {
            child.parent = Some(community.as_str().to_string());
        } else if child.parent.as_deref() == Some(community.as_str()) {
            child.parent = None;
        } else {
            return Err(wuts_status(404, "group_not_found"));
        }
        Ok(())
    }

    /// Runs `f` on a plain group of a connected session (the invite calls).
    fn with_plain_group<T>(
        &self,
        group: &GroupJid,
        f: impl FnOnce(&mut SimGroup) -> T,
    ) -> Result<T, EngineError> {
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
impl Engine for Simulator {
    async fn call(
        &self,
        _target: &EngineTarget,
        call: AnyCall,
        meta: CallMeta,
    ) -> Result<AnyReply, EngineError> {
        meta.handed_over.mark();
        Ok(match call {
            AnyCall::UpdateParticipants(c) => AnyReply::UpdateParticipants(self.apply(&c)?),
            AnyCall::Invite(c) => AnyReply::Invite(match c.which {
                InviteCall::Get => self.current_invite(&c.group)?,
                InviteCall::Reset => self.reset(&c.group)?,
            }),
            AnyCall::Leave(c) => AnyReply::Leave(self.leave(&c.group)?),
            AnyCall::SetEphemeral(c) => {
                AnyReply::SetEphemeral(Simulator::set_ephemeral(self, &c.group, c.seconds)?)
            }
            AnyCall::NewGroup(c) => AnyReply::NewGroup(Simulator::create_group(self, &c)?),
            AnyCall::NewCommunity(c) => {
                AnyReply::NewCommunity(Simulator::create_community(self, &c)?)
            }
            AnyCall::ListGroups(c) => {
                let mut collector = shared::engine::listing::PageCollector::new(&c.page);
                for group in self.list()? {
                    collector.offer(group);
                }
                AnyReply::ListGroups(collector.finish())
            }
            AnyCall::GroupInfo(c) => AnyReply::GroupInfo(self.info(&c.group)?),
            AnyCall::UpdateGroup(c) => AnyReply::UpdateGroup(Some(self.update(&c.group, &c.step)?)),
            AnyCall::Join(c) => AnyReply::Join(self.join(&c)?),
            AnyCall::SetPicture(c) => {
                use base64::Engine as _;
                let jpeg = base64::engine::general_purpose::STANDARD
                    .decode(&c.base64)
                    .map_err(|_| wuts_status(400, "invalid_image"))?;
                AnyReply::SetPicture(Some(Simulator::set_picture(self, &c.group, &jpeg)?))
            }
            AnyCall::LinkGroup(c) => {
                AnyReply::LinkGroup(self.link(&c.community, &c.group, c.link)?)
            }
            AnyCall::JoinRequests(c) => AnyReply::JoinRequests(self.join_requests(&c.group)?),
            AnyCall::AnswerJoinRequests(c) => AnyReply::AnswerJoinRequests(
                self.answer_join_requests(&c.group, c.approve, &c.participants)?,
            ),
            AnyCall::InviteInfo(c) => AnyReply::InviteInfo(self.invite_info(&c.code)?),
            AnyCall::CommunityGroups(c) => {
                AnyReply::CommunityGroups(self.community_groups(&c.community)?)
            }
            AnyCall::PrivateInvite(c) => {
                AnyReply::PrivateInvite(self.private_invite(&c.group, &c.participant, &c.code)?)
            }
        })
    }

    /// The simulator takes a whole change at once, as WUTS does.
    fn update_steps(
        &self,
        _target: &EngineTarget,
        change: &GroupChange,
    ) -> Result<Vec<GroupChange>, EngineError> {
        Ok(vec![change.clone()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::jid::ParticipantJid;

    fn call(kind: GroupKind, group: &str, action: Action, who: &[&str]) -> UpdateParticipants {
        UpdateParticipants {
            kind,
            group: GroupJid::parse(group).unwrap(),
            action,
            participants: who
                .iter()
                .map(|p| ParticipantJid::normalise(p).unwrap())
                .collect(),
            invite_on_privacy: false,
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
