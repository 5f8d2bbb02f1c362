"""structlearn.objectives"""
