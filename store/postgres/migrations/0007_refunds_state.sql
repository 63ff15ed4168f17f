-- 0007_refunds_state: refunds in given states created before a time: the
-- PROCESSING refunds, their notify lost, to reconcile with the platform
-- (store.Orders.Refunds).

CREATE INDEX wxkit_refunds_state ON wxkit_refunds (state, created_at DESC);
