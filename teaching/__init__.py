"""The teaching edition: student book, assignments (otter-grader) and grading, generated from the chapters.

Every exercise lives once, in its chapter (``teaching/EXERCISES.md`` says how it is written);
``python -m teaching`` generates everything a student or a grader sees from it.
"""
