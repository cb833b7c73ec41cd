-- 0005_comments: what the comment routes read by, beside comments_project
-- (project_id, id) of 0003. A thread's replies and their count are read
-- by parent_id on every GET and list row, and the ON DELETE CASCADE of
-- parent_id looks there too when a thread goes. A page's comments are
-- filtered by page_id, and its cascade looks there when the page goes.
CREATE INDEX comments_parent ON comments (parent_id, id);
CREATE INDEX comments_page ON comments (page_id, id);
