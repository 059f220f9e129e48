"""The course around the notebooks: nbgrader metadata, the student release, and (later) grading.

Grading-side code lives here, not in ``helpers/``, which ships to students.
"""
