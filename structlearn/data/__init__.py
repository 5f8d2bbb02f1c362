"""structlearn.data"""
