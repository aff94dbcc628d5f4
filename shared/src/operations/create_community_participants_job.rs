//! `POST /communities/{jid}/participants/jobs`: the same paced bulk change at the community (parent) level.

super::jobs::job_operation!(
    CreateCommunityParticipantsJob: "/communities/{jid}/participants/jobs" => "create-community-participants-job", Community
);
