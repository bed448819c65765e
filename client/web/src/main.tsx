import { render } from 'preact';
import { App } from './App';
import './base.css';
import './chat.css';

render(<App />, document.getElementById('app')!);
