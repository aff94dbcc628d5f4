//! Every call an operation makes to an engine, as a type: its arguments,
//! already validated, and the typed reply it reads into. Each adapter says,
//! per call, how it addresses the request and reads the reply, or that it
//! cannot (`adapters/`); the transport sends every call the same way
//! (`transport`).
//!
//! A new call is a struct here with its `Call` impl, its name in
//! [`every_call!`], and one `Speaks` impl (or one `cannot!` line) per
//! adapter: the compiler names any adapter that has not said, and any
//! `Engine` (the simulator) that does not answer it.

use super::groups::{Group, GroupChange, Join, JoinRequest, Joined, NewCommunity, NewGroup};
use super::{EngineParticipant, GroupPage, ListPage, UpdateParticipants};
use crate::jid::{GroupJid, ParticipantJid};
use crate::pacing::Class;

/// Largest engine reply read, unless a call says otherwise: anything bigger
/// is not a documented reply.
pub const MAX_REPLY_BYTES: usize = 1 << 20;

/// Largest group list read: 5,000 groups are ~1.5 MB in the bulkiest engine
/// shape (Evolution's, with picture URLs); 16 MiB leaves room for ten times
/// that. `GET /groups` bounds what it answers itself.
pub const MAX_LIST_REPLY_BYTES: usize = 16 << 20;

/// Every engine call, named once: `$m!` gets the list. It makes
/// [`AnyCall`] and [`AnyReply`] here, and the transport's dispatch.
macro_rules! every_call {
    ($m:ident) => {
        $m! {
            UpdateParticipants,
            Invite,
            Leave,
            SetEphemeral,
            NewGroup,
            NewCommunity,
            ListGroups,
            GroupInfo,
            UpdateGroup,
            Join,
            SetPicture,
            LinkGroup,
            JoinRequests,
            AnswerJoinRequests,
            InviteInfo,
            CommunityGroups,
            PrivateInvite,
        }
    };
}
#[cfg_attr(not(feature = "adapters"), allow(unused_imports))]
pub(crate) use every_call;

macro_rules! any_call {
    ($($call:ident),+ $(,)?) => {
        /// Any engine call: what the port ([`super::Engine::call`]) carries.
        #[derive(Debug, Clone)]
        pub enum AnyCall {
            $($call($call),)+
        }

        /// A borrowed [`AnyCall`]: what [`super::Engine::check`] looks at.
        #[derive(Debug, Clone, Copy)]
        pub enum AnyCallRef<'a> {
            $($call(&'a $call),)+
        }

        /// The reply to an [`AnyCall`]: the same variant, the call's reply.
        #[derive(Debug)]
        pub enum AnyReply {
            $($call(<$call as Call>::Reply),)+
        }

        $(
            impl From<$call> for AnyCall {
                fn from(call: $call) -> Self {
                    Self::$call(call)
                }
            }

            impl OneCall for $call {
                fn borrowed(&self) -> AnyCallRef<'_> {
                    AnyCallRef::$call(self)
                }

                fn wrap(reply: Self::Reply) -> AnyReply {
                    AnyReply::$call(reply)
                }

                fn unwrap(reply: AnyReply) -> Option<Self::Reply> {
                    match reply {
                        AnyReply::$call(reply) => Some(reply),
                        #[allow(unreachable_patterns)]
                        _ => None,
                    }
                }
            }
        )+
    };
}
every_call!(any_call);

/// A call of [`every_call!`]: how it goes into an [`AnyCall`] and its
/// reply out of an [`AnyReply`].
pub trait OneCall: Call + Into<AnyCall> + Send {
    fn borrowed(&self) -> AnyCallRef<'_>;
    fn wrap(reply: Self::Reply) -> AnyReply;
    fn unwrap(reply: AnyReply) -> Option<Self::Reply>;
}

/// One engine call.
pub trait Call {
    /// What a success reads into.
    type Reply;
    /// The largest reply the transport reads for this call.
    const MAX_REPLY: usize = MAX_REPLY_BYTES;
    /// The class it takes budget from (`pacing.md`), one unit a call
    /// unless [`Call::cost`] says otherwise.
    const CLASS: Class;
    /// What it takes from the lane's budget; the first class is the one a
    /// WhatsApp rate limit on it pauses.
    fn cost(&self) -> Vec<(Class, u32)> {
        vec![(Self::CLASS, 1)]
    }
    /// Whether a success still reports WhatsApp's rate limit (an add that
    /// came back `rate-overlimit` for some participants).
    fn rate_limited(_reply: &Self::Reply) -> bool {
        false
    }
}

/// A create: the create, and an add for each participant it brings.
fn creating(participants: usize) -> Vec<(Class, u32)> {
    vec![(Class::Create, 1), (Class::Add, count(participants))]
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl Call for UpdateParticipants {
    /// An add; a remove, promote or demote is a change.
    const CLASS: Class = Class::Add;

    /// One entry per participant the engine accounted for (the rest are
    /// `unconfirmed` to our caller).
    type Reply = Vec<EngineParticipant>;

    fn cost(&self) -> Vec<(Class, u32)> {
        vec![(self.action.pacing_class(), count(self.participants.len()))]
    }

    fn rate_limited(reply: &Self::Reply) -> bool {
        reply.iter().any(|p| p.error == Some(429))
    }
}

/// Which invite call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InviteCall {
    /// The current link, not regenerated.
    Get,
    /// Revoke the link; the new one back.
    Reset,
}

/// The group's invite link (read, or revoked and renewed).
#[derive(Debug, Clone)]
pub struct Invite {
    pub group: GroupJid,
    pub which: InviteCall,
}

impl Invite {
    /// The current link.
    pub fn get(group: &GroupJid) -> Self {
        Self {
            group: group.clone(),
            which: InviteCall::Get,
        }
    }

    /// A new link, the old one revoked.
    pub fn reset(group: &GroupJid) -> Self {
        Self {
            group: group.clone(),
            which: InviteCall::Reset,
        }
    }
}

impl Call for Invite {
    /// The link, checked (`wire::invite_link`).
    type Reply = String;

    /// A reset; reading the current link is a read.
    const CLASS: Class = Class::Settings;

    fn cost(&self) -> Vec<(Class, u32)> {
        let class = match self.which {
            InviteCall::Get => Class::Read,
            InviteCall::Reset => Class::Settings,
        };
        vec![(class, 1)]
    }
}

/// The account leaves the group.
#[derive(Debug, Clone)]
pub struct Leave {
    pub group: GroupJid,
}

impl Call for Leave {
    type Reply = ();

    const CLASS: Class = Class::Settings;
}

/// The group's disappearing-message timer (0 turns it off).
#[derive(Debug, Clone)]
pub struct SetEphemeral {
    pub group: GroupJid,
    pub seconds: u32,
}

impl Call for SetEphemeral {
    type Reply = ();

    const CLASS: Class = Class::Settings;
}

impl Call for NewGroup {
    /// The group the engine created. A 2xx that does not carry it is an
    /// unreadable answer to a call that may have created one (outcome
    /// unknown), never "no such group".
    type Reply = Group;

    const CLASS: Class = Class::Create;

    fn cost(&self) -> Vec<(Class, u32)> {
        creating(self.participants.len())
    }
}

impl Call for NewCommunity {
    type Reply = Group;

    const CLASS: Class = Class::Create;

    fn cost(&self) -> Vec<(Class, u32)> {
        creating(self.participants.len())
    }
}

/// One page of the groups the account has joined, participants left out.
/// The engine's whole list is read (no engine paginates it) and only the
/// page is kept.
#[derive(Debug, Clone)]
pub struct ListGroups {
    pub page: ListPage,
}

impl Call for ListGroups {
    type Reply = GroupPage;
    const MAX_REPLY: usize = MAX_LIST_REPLY_BYTES;

    const CLASS: Class = Class::Read;
}

/// One group with its participants; a `null` or empty answer is no such
/// group.
#[derive(Debug, Clone)]
pub struct GroupInfo {
    pub group: GroupJid,
}

impl Call for GroupInfo {
    type Reply = Group;

    const CLASS: Class = Class::Read;
}

/// One step of a group update (the adapter's `update_steps` split the
/// change); the refreshed group where the engine answers with it.
#[derive(Debug, Clone)]
pub struct UpdateGroup {
    pub group: GroupJid,
    pub step: GroupChange,
}

impl Call for UpdateGroup {
    type Reply = Option<Group>;

    const CLASS: Class = Class::Settings;
}

impl Call for Join {
    type Reply = Joined;

    const CLASS: Class = Class::Create;
}

/// The group's picture, a JPEG already base64-encoded; the picture id where
/// the engine gives one.
#[derive(Clone)]
pub struct SetPicture {
    pub group: GroupJid,
    pub base64: String,
}

impl SetPicture {
    pub fn jpeg(group: GroupJid, jpeg: &[u8]) -> Self {
        use base64::Engine as _;
        Self {
            group,
            base64: base64::engine::general_purpose::STANDARD.encode(jpeg),
        }
    }
}

/// The picture's size, not its bytes, in logs and test failures.
impl std::fmt::Debug for SetPicture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SetPicture")
            .field("group", &self.group)
            .field("base64_len", &self.base64.len())
            .finish()
    }
}

impl Call for SetPicture {
    type Reply = Option<String>;

    const CLASS: Class = Class::Settings;
}

/// Links (`link`) or unlinks `group` to or from `community`.
#[derive(Debug, Clone)]
pub struct LinkGroup {
    pub community: GroupJid,
    pub group: GroupJid,
    pub link: bool,
}

impl Call for LinkGroup {
    type Reply = ();

    const CLASS: Class = Class::Settings;
}

/// The pending requests to join a group that needs an admin's approval.
#[derive(Debug, Clone)]
pub struct JoinRequests {
    pub group: GroupJid,
}

impl Call for JoinRequests {
    type Reply = Vec<JoinRequest>;

    const CLASS: Class = Class::Read;
}

/// Approves (`approve`) or rejects pending join requests; one entry per
/// participant the engine accounted for (the rest are `unconfirmed`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct AnswerJoinRequests {
    pub group: GroupJid,
    pub approve: bool,
    pub participants: Vec<ParticipantJid>,
}

impl AnswerJoinRequests {
    /// `approve` or `reject`: the API's word, and the audit record's.
    pub fn action(&self) -> &'static str {
        if self.approve { "approve" } else { "reject" }
    }
}

impl Call for AnswerJoinRequests {
    type Reply = Vec<super::EngineParticipant>;

    /// A membership change each: an approval adds someone who asked to
    /// join, so it is paced as a change, not as an add.
    const CLASS: Class = Class::Change;

    fn cost(&self) -> Vec<(Class, u32)> {
        vec![(Class::Change, count(self.participants.len()))]
    }

    fn rate_limited(reply: &Self::Reply) -> bool {
        reply.iter().any(|p| p.error == Some(429))
    }
}

/// The group an invite code leads to, read without joining it.
#[derive(Debug, Clone)]
pub struct InviteInfo {
    /// The code of `https://chat.whatsapp.com/<code>`, validated.
    pub code: String,
}

impl Call for InviteInfo {
    /// The group, without participants.
    type Reply = Group;

    const CLASS: Class = Class::Read;
}

/// The groups linked to a community (its announcement group marked).
#[derive(Debug, Clone)]
pub struct CommunityGroups {
    pub community: GroupJid,
}

impl Call for CommunityGroups {
    type Reply = Vec<Group>;
    const MAX_REPLY: usize = MAX_LIST_REPLY_BYTES;

    const CLASS: Class = Class::Read;
}

/// Sends the private invitation WhatsApp's `add_request` allows to someone
/// whose privacy settings refused an add (`invite_on_privacy`).
#[derive(Debug, Clone)]
pub struct PrivateInvite {
    pub group: GroupJid,
    /// Who is invited: the JID the engine's refusal named.
    pub participant: String,
    /// The `add_request`'s code and expiry (epoch seconds).
    pub code: String,
    pub expiration: Option<i64>,
}

impl Call for PrivateInvite {
    type Reply = ();

    /// A message to someone who refused to be added: paced like an add.
    const CLASS: Class = Class::Add;
}
