"""structlearn.estimators"""
