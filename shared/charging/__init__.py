"""EV charging with parking (S12): charging operators report charging sessions; the lot's policy makes
parking free or discounted while charging plus a grace, and charges a car that idles in a charger bay."""
