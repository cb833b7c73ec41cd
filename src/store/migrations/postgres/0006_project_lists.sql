-- 0006_project_lists: a team's project list in each order it is asked
-- for. The list (projects/project.c) filters by team and sorts by
-- updated_at, name or id (created_at), text in byte order (COLLATE "C",
-- as on SQLite); with these the database walks the team's rows in that
-- order and stops after a page, instead of reading and sorting every
-- project. The collations must be the ones the ORDER BY names, or the
-- planner cannot use the index for the order.
CREATE INDEX projects_team_updated ON projects (team_id, updated_at, id COLLATE "C");
CREATE INDEX projects_team_name ON projects (team_id, name COLLATE "C", id COLLATE "C");
CREATE INDEX projects_team_created ON projects (team_id, id COLLATE "C");
