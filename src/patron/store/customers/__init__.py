"""The queries of the customers API: lists, activity, deletion."""
