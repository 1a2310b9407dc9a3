"""``GET .../gradebook?format=canvas``: the columns Canvas's gradebook import requires, in its order,
with the points possible row, so that the file imports without editing."""

from __future__ import annotations

import csv
import io

from factories import unique

CANVAS_HEADER = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


def test_the_canvas_gradebook_has_canvas_columns_points_and_the_counted_scores(client, course) -> None:
    aid = course.assignment(title="Homework 3: convolutions")
    (graded, headers), (idle, _) = course.students(2)
    assert course.submit(aid, headers, {"ex4.conv1_params": "3640", "ex5.params": "1800"}).status_code == 201
    with_email = unique("s")
    imported = client.post(
        f"{course.path}/members",
        json={"members": [{"id": with_email, "name": "Emmy Noether", "email": "emmy@example.edu"}]},
        headers=course.instructor,
    )
    assert imported.status_code == 200
    response = client.get(f"{course.path}/assignments/{aid}/gradebook?format=canvas", headers=course.instructor)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert f'filename="{course.id}-{aid}-canvas.csv"' in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == [*CANVAS_HEADER, "Homework 3: convolutions"]
    assert rows[1] == ["Points Possible", "", "", "", "", "9"]  # conv-pool-basics: 9 parts of 1 point
    by_sis = {row[2]: row for row in rows[2:]}
    assert by_sis[graded][5] == "1" and by_sis[graded][3] == graded  # no email: the id logs in
    assert by_sis[idle][5] == ""  # no submission: blank, not 0 (Canvas leaves it ungraded)
    assert by_sis[with_email][0] == "Emmy Noether" and by_sis[with_email][3] == "emmy@example.edu"
    assert all(len(row) == 6 for row in rows)
