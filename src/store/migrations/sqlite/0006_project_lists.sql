-- 0006_project_lists: a team's project list in each order it is asked
-- for. The list (projects/project.c) filters by team and sorts by
-- updated_at, name or id (created_at); with these the database walks the
-- team's rows in that order and stops after a page, instead of reading
-- and sorting every project. projects_team (team_id, id) of 0003 serves
-- the id order.
CREATE INDEX projects_team_updated ON projects (team_id, updated_at, id);
CREATE INDEX projects_team_name ON projects (team_id, name, id);
