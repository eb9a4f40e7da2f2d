"""A board fleet on Flower: boards behind long-lived bridges, SuperNodes per host, the curious server as a ServerApp."""
