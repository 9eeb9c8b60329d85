module profile_ext/test/scrape

go 1.19
