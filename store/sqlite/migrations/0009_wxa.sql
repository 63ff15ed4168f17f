-- Mini Program login: a session keeps its session_key sealed by the gateway
-- (store.Session.SealedSessionKey; NULL for web login), and a user the phone
-- number getPhoneNumber gave (store.User.PhoneNumber; '' when unknown).
ALTER TABLE wxkit_sessions ADD COLUMN sealed_session_key BLOB;
ALTER TABLE wxkit_users ADD COLUMN phone_number TEXT NOT NULL DEFAULT '';
