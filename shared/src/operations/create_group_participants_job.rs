//! `POST /groups/{jid}/participants/jobs`: a paced bulk change of up to 5,000 participants of a group (default action `add`), run at the lane's pace; 202 with the job and `Location: /jobs/{id}`.

super::jobs::job_operation!(
    CreateGroupParticipantsJob: "/groups/{jid}/participants/jobs" => "create-group-participants-job", Group
);
