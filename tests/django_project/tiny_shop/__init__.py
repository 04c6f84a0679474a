"""A tiny Django shop the Django integration's tests run the suite against."""
