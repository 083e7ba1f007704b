process.env.KIT_CACHE_MODE = 'save'; require('../cache.js');
