-- SPDX-License-Identifier: GPL-2.0-only
--
-- The indexes of the tuned demo (DEMO_MODE=tuned), loaded by run.sh after schema.sql.
--
--   orders(user_id, created_at): the quota aggregate and a user's latest orders read one
--                                user's rows instead of scanning all ~100000 orders
--   orders(created_at):          the daily statistics read the last 7 days, not all orders
--   items(created_at, id):       the newest items in index order, no sort; the keyset page
--                                query starts from a bookmark

\set ON_ERROR_STOP on
SET client_min_messages = warning;

CREATE INDEX IF NOT EXISTS orders_user_id_created_at ON orders (user_id, created_at);
CREATE INDEX IF NOT EXISTS orders_created_at ON orders (created_at);
CREATE INDEX IF NOT EXISTS items_created_at_id ON items (created_at, id);

ANALYZE orders;
ANALYZE items;
