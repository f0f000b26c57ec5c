import { render } from 'preact';
import { App } from './app.js';
import { dashboardOf, prefetch } from './api.js';
import './styles.css';

const dashboard = dashboardOf(location.pathname);
prefetch(['/api/console/session', ...(dashboard ? [`/api/dashboards/${dashboard}`] : [])]);
render(<App />, document.getElementById('app')!);
