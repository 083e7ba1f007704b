process.env.KIT_CACHE_MODE = 'restore'; require('../cache.js');
