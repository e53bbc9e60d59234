-- SPDX-License-Identifier: GPL-2.0-only
-- pgbench pipeline: 20 statements sent before one Sync (more than a parser that keeps a
-- fixed number of Executes per Sync group may hold), answered together.
\set id random(1, 50)
\startpipeline
select id from items where id = :id;
select id from items where id = :id;
select id from items where id = :id;
select id from items where id = :id;
select id from items where id = :id;
select id from items where id = :id;
select id from items where id = :id;
select id from items where id = :id;
select id from items where id = :id;
select id from items where id = :id;
select id from items where id = :id;
select id from items where id = :id;
select id from items where id = :id;
select id from items where id = :id;
select id from items where id = :id;
select id from items where id = :id;
select id from items where id = :id;
select id from items where id = :id;
select id from items where id = :id;
select id from items where id = :id;
\endpipeline
